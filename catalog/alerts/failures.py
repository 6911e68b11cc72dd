"""Why a sync run failed, in plain words: an exception or a stored error text classified into
an ErrorKind, and what it means and what to do about it (the shops page, the dashboard, the
"sync failing" alert).
"""

from django.utils.translation import gettext_lazy

import open1688 as api
from catalog.models import SyncRun

ErrorKind = SyncRun.ErrorKind

_BY_CLASS = [
    ((api.AuthError, api.PermissionDeniedError, api.SignatureError), ErrorKind.AUTH),
    ((api.QuotaError, api.RateLimitTimeout), ErrorKind.QUOTA),
    ((api.MalformedResponseError, api.InvalidParameterError, api.BusinessError), ErrorKind.DATA),
    ((api.TransportError, api.ServerError, api.Open1688Error), ErrorKind.PLATFORM),
]
_NAMES: dict[str, str] = {}
for _classes, _kind in _BY_CLASS:  # the first match wins, as in `classify`
    for _base in _classes:
        for _cls in [_base, *_base.__subclasses__()]:
            _NAMES.setdefault(_cls.__name__, _kind)
_NAMES.update(
    {
        "LockLost": ErrorKind.WORKER,
        "AbandonedJobError": ErrorKind.WORKER,
        "JobTimeoutException": ErrorKind.WORKER,
        "DataError": ErrorKind.DATA,
        "IntegrityError": ErrorKind.DATA,
        "ValueError": ErrorKind.DATA,
    }
)

EXPLANATIONS = {
    ErrorKind.AUTH: (
        gettext_lazy("1688 refused this shop's authorisation (or this app's access to an API)."),
        gettext_lazy(
            "Authorise the shop again. If an API is listed as not granted, apply for it in the "
            "1688 developer console."
        ),
    ),
    ErrorKind.QUOTA: (
        gettext_lazy("The 1688 call quota or this ERP's rate limit was used up."),
        gettext_lazy(
            "Nothing to do now: the next scheduled sync continues where this one stopped. If it "
            "happens every time, lower the rate or ask 1688 for a larger quota."
        ),
    ),
    ErrorKind.DATA: (
        gettext_lazy("1688 answered with data this ERP could not read or store."),
        gettext_lazy(
            "Look at the offer named in the error; a full resync after it is fixed on 1688 "
            "usually clears it. Report it if it repeats."
        ),
    ),
    ErrorKind.PLATFORM: (
        gettext_lazy("1688 could not be reached or answered with a server error."),
        gettext_lazy("Usually temporary: the next sync retries on its own."),
    ),
    ErrorKind.WORKER: (
        gettext_lazy("The worker running the sync stopped (killed, restarted or lost)."),
        gettext_lazy(
            "The scheduler queues the shop again; check that the worker process is running."
        ),
    ),
    ErrorKind.OTHER: (
        gettext_lazy("The sync stopped on an unexpected error."),
        gettext_lazy(
            'Try "Sync now"; if it fails again, send the error below to your administrator.'
        ),
    ),
}


def classify(exc: BaseException) -> str:
    """The ErrorKind of an exception that ended a run."""
    for classes, kind in _BY_CLASS:
        if isinstance(exc, classes):
            return kind
    return _NAMES.get(exc.__class__.__name__, ErrorKind.OTHER)


def classify_text(error: str) -> str:
    """The ErrorKind of a stored error text ("AuthError: ..." as the sync writes it, or the
    scheduler's sentences about dead workers and lost jobs), for runs without `error_kind`."""
    if not error:
        return ""
    name = error.split(":", 1)[0].strip()
    if name in _NAMES:
        return _NAMES[name]
    lowered = error.lower()
    if "worker" in lowered or "job" in lowered or "heartbeat" in lowered:
        return ErrorKind.WORKER
    if "re-authoris" in lowered or "needs_reauth" in lowered:
        return ErrorKind.AUTH
    return ErrorKind.OTHER


def run_error_kind(run: SyncRun) -> str:
    return run.error_kind or classify_text(run.error)


def explain(run: SyncRun) -> dict | None:
    """A failed run in plain words: {kind, label, what, todo, detail}; None if it did not fail."""
    if run.status != SyncRun.Status.FAILED:
        return None
    kind = run_error_kind(run) or ErrorKind.OTHER
    what, todo = EXPLANATIONS[kind]
    return {
        "kind": kind,
        "label": ErrorKind(kind).label,
        "what": what,
        "todo": todo,
        "detail": short(run.error),
    }


def short(text: str, limit: int = 300) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
