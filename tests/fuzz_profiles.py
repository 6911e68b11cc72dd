"""Hypothesis profiles: `ci` (the default, and what `make test` and CI run) keeps every fuzz
test at its full count of examples; `dev` (`make test-fast`, or HYPOTHESIS_PROFILE=dev) runs a
tenth of them for the edit loop. A test names its full count through `examples(n)`."""

import os

from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

DEV_SHARE = 10  # the dev profile runs one example in ten

hypothesis_settings.register_profile("ci", max_examples=100)
hypothesis_settings.register_profile(
    "dev", max_examples=100 // DEV_SHARE, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def examples(full: int) -> int:
    """A test's count of examples under the loaded profile: `full` in ci, a tenth in dev."""
    if hypothesis_settings.get_current_profile_name() == "dev":
        return max(3, full // DEV_SHARE)
    return full
