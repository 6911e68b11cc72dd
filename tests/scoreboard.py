"""The suite's scoreboard: one line at the end of every run, e.g.

    scoreboard: faults injected 212, kills survived 6, hostile inputs tried 1480, rows compared
    5120, rows lost 0, duplicates 0

Tests count what they did through the `scoreboard` fixture; `compare()` is the one way a test
checks a mirror against an independent walk of the sandbox, so "rows compared / lost /
duplicates" are counted where the comparison is made (and the test still fails on a loss).
Loaded by tests/conftest.py (`pytest_plugins`). In a parallel run (pytest-xdist) each worker
counts in its own process and hands its counts to the controller when it finishes, which adds
them up and prints the one line.
"""

from collections import Counter
from collections.abc import Iterable, Mapping

import pytest

FIELDS = (
    ("faults", "faults injected"),
    ("kills", "kills survived"),
    ("hostile", "hostile inputs tried"),
    ("compared", "rows compared"),
    ("lost", "rows lost"),
    ("duplicates", "duplicates"),
)


class Scoreboard:
    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def fault(self, n: int = 1) -> None:
        self.counts["faults"] += n

    def kill(self, n: int = 1) -> None:
        self.counts["kills"] += n

    def hostile(self, n: int = 1) -> None:
        self.counts["hostile"] += n

    def compare(self, truth: Mapping, rows: Iterable[tuple], what: str = "rows") -> None:
        """Check local `rows` ((key, value) pairs, as read from the database, duplicates and
        all) against `truth` {key: value} from an independent walk of the sandbox; count them
        and fail naming the first differences."""
        rows = list(rows)
        keys = Counter(key for key, _value in rows)
        duplicates = sum(n - 1 for n in keys.values() if n > 1)
        local = dict(rows)
        lost = [k for k in truth if k not in local]
        extra = [k for k in local if k not in truth]
        stale = [k for k in truth if k in local and local[k] != truth[k]]
        self.counts["compared"] += len(truth)
        self.counts["lost"] += len(lost) + len(stale)
        self.counts["duplicates"] += duplicates + len(extra)
        problems = {
            "lost": lost[:5],
            "stale": [(k, local[k], truth[k]) for k in stale[:5]],
            "extra": extra[:5],
            "duplicated": [k for k, n in keys.items() if n > 1][:5],
        }
        assert not (lost or stale or extra or duplicates), f"{what}: {problems}"

    def line(self) -> str:
        return "scoreboard: " + ", ".join(f"{label} {self.counts[key]}" for key, label in FIELDS)


BOARD = Scoreboard()


@pytest.fixture
def scoreboard() -> Scoreboard:
    return BOARD


def _is_xdist_worker(config) -> bool:
    return hasattr(config, "workerinput")


def pytest_sessionfinish(session, exitstatus):
    if _is_xdist_worker(session.config):
        session.config.workeroutput["scoreboard"] = dict(BOARD.counts)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """A worker finished (xdist, in the controller): add its counts."""
    BOARD.counts.update(getattr(node, "workeroutput", {}).get("scoreboard", {}))


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if _is_xdist_worker(config):
        return
    from hypothesis import settings as hypothesis_settings

    terminalreporter.write_sep("-", "scoreboard")
    terminalreporter.write_line(BOARD.line())
    terminalreporter.write_line(
        f"hypothesis profile: {hypothesis_settings.get_current_profile_name()} "
        f"(default {hypothesis_settings.default.max_examples} examples a test)"
    )
