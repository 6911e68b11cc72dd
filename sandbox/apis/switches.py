"""Answer-shape switches where the public record disagrees with itself (docs/sandbox-control.md).

Defaults come from ``python -m sandbox serve`` flags (or ``make_server(switches=...)``); the
control API overrides them for every app or for one app; ``/_sandbox/reset`` drops overrides.
"""

import threading
from dataclasses import asdict, dataclass, fields, replace

# The SDK models the list page as result.result.pageResult; four real parsers read
# result.pageResult.
NESTINGS = ("result.result.pageResult", "result.pageResult")
# The SDK's page carries totalRecords; one real parser reads totalCount.
TOTAL_KEYS = ("totalRecords", "totalCount")


@dataclass(frozen=True)
class Switches:
    list_nesting: str = NESTINGS[0]
    list_total: str = TOTAL_KEYS[0]
    # List items with skuInfos, saleInfo (priceRanges, amountOnSale, quoteType, unit) and
    # productCargoNumber, as one production ERP reads them; default: summary items only.
    list_skus: bool = False
    # alibaba.product.get reads only the token member's own offers (the official SDK's note).
    strict_ownership: bool = True
    # API names this app was not granted: calls answer gw.APIACLDecline (each "solution" an
    # app subscribes to grants its own API set).
    denied_apis: tuple[str, ...] = ()
    # Publishing (sandbox/apis/publish.py): the legacy alibaba.product.add checked like 1688 (leaf,
    # required and cascading attributes, photobank pictures, own freight template and
    # address) and audited; off (`serve --lenient-publish`): an unchecked add published at
    # once, for tests whose subject is not publishing. The schema-driven add and the preview
    # are always strict.
    strict_publish: bool = True
    # Audit of new offers: `auditing` this long, then published or untread (a title with one of
    # the words, or a random share of offers); 0: decided at once.
    audit_seconds: float = 3.0
    audit_reject_words: tuple[str, ...] = ("违禁", "假货", "高仿")
    audit_reject_share: float = 0.0
    # The product list's index lagging the modify stamp: an offer modified within this many
    # seconds is not listed yet (what a sync's overlap is for); 0: listed at once.
    list_index_lag_seconds: float = 0.0

    def changed(self, values: dict) -> "Switches":
        """A copy with ``values`` applied; ValueError names a bad key or value."""
        known = {field.name for field in fields(self)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown switch {sorted(unknown)}; known: {sorted(known)}")
        checked = dict(values)
        if "list_nesting" in checked and checked["list_nesting"] not in NESTINGS:
            raise ValueError(f"list_nesting must be one of {list(NESTINGS)}")
        if "list_total" in checked and checked["list_total"] not in TOTAL_KEYS:
            raise ValueError(f"list_total must be one of {list(TOTAL_KEYS)}")
        for name in ("audit_seconds", "audit_reject_share", "list_index_lag_seconds"):
            if name in checked:
                value = checked[name]
                if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                    raise ValueError(f"{name} must be a number >= 0")
                checked[name] = float(value)
        if checked.get("audit_reject_share", 0) > 1:
            raise ValueError("audit_reject_share must be between 0 and 1")
        if "audit_reject_words" in checked:
            words = checked["audit_reject_words"]
            if not isinstance(words, list | tuple) or not all(isinstance(w, str) for w in words):
                raise ValueError("audit_reject_words must be a list of words")
            checked["audit_reject_words"] = tuple(words)
        for name in ("list_skus", "strict_ownership", "strict_publish"):
            if name in checked and not isinstance(checked[name], bool):
                raise ValueError(f"{name} must be true or false")
        if "denied_apis" in checked:
            names = checked["denied_apis"]
            if not isinstance(names, list | tuple) or not all(isinstance(n, str) for n in names):
                raise ValueError("denied_apis must be a list of API names")
            checked["denied_apis"] = tuple(names)
        return replace(self, **checked)

    def as_dict(self) -> dict:
        values = asdict(self)
        values["denied_apis"] = list(self.denied_apis)
        values["audit_reject_words"] = list(self.audit_reject_words)
        return values


class SwitchBoard:
    """Thread safe: defaults, overrides for every app, overrides per app key."""

    def __init__(self, defaults: Switches | None = None) -> None:
        self._lock = threading.Lock()
        self.defaults = defaults or Switches()
        self._every_app: dict = {}
        self._per_app: dict[str, dict] = {}

    def for_app(self, app_key: str) -> Switches:
        with self._lock:
            return self.defaults.changed({**self._every_app, **self._per_app.get(app_key, {})})

    def set(self, values: dict, app_key: str | None = None) -> Switches:
        """Override switches for one app (or every app when ``app_key`` is None)."""
        self.defaults.changed(values)  # validate before storing anything
        with self._lock:
            if app_key:
                self._per_app.setdefault(app_key, {}).update(values)
            else:
                self._every_app.update(values)
        return self.for_app(app_key or "")

    def reset(self) -> None:
        with self._lock:
            self._every_app.clear()
            self._per_app.clear()

    def snapshot(self) -> dict:
        with self._lock:
            return {
                "defaults": self.defaults.as_dict(),
                "every_app": dict(self._every_app),
                "per_app": {key: dict(values) for key, values in self._per_app.items()},
            }
