"""Messages kept in the database and shown later, in the language of whoever reads them.

A validation error or an upload's stop reason is written once (by a worker, in no particular
language) and read many times, by staff in Chinese or in English. So what is stored is the
English message id and its parameters, never a translated sentence:

    {"msgid": "Title is at most %(max)d characters (now %(n)d)", "params": {"max": 128, "n": 130}}

`stored("...")` marks the message id for makemessages (import it as `_` in a module whose every
message is stored) and `% {...}` adds the parameters, as with gettext; a parameter that is itself
a message (a lazy label, another stored message) is kept as a message and translated on display
too. `render(value)` gives the text in the active language; it also accepts what older rows hold
(a plain string: translated when it is a known message id, shown as is otherwise). A text column
holds the JSON text of the message (`as_text`). Templates use the `stored_message` filter of the
`erp_messages` template library.
"""

import json

from django.utils.functional import Promise
from django.utils.translation import gettext

MSGID, PARAMS = "msgid", "params"


class Message(dict):
    """A stored message: a dict (so a JSONField keeps it as is) that renders in the active
    language when turned into text."""

    def __mod__(self, params) -> "Message":
        return Message({MSGID: self[MSGID], PARAMS: {k: _keep(v) for k, v in params.items()}})

    def __str__(self) -> str:
        return render(self)

    def __html__(self) -> str:  # templates escape the rendered text, not the dict
        from django.utils.html import escape

        return escape(render(self))


def stored(msgid: str) -> Message:
    return Message({MSGID: msgid})


def _keep(value):
    """A parameter as stored: messages stay messages, numbers stay numbers, the rest is text."""
    if isinstance(value, Promise):  # gettext_lazy("Price"): its message id, translated later
        return Message({MSGID: value._args[0]}) if getattr(value, "_args", None) else str(value)
    if value is None or isinstance(value, dict | bool | int | float):
        return value
    return str(value)


def is_message(value) -> bool:
    return isinstance(value, dict) and isinstance(value.get(MSGID), str)


def render(value) -> str:
    """The text of a stored message in the active language (see the module docstring)."""
    if isinstance(value, str):
        if value.startswith('{"msgid"'):
            try:
                value = json.loads(value)
            except ValueError:
                return value
        else:
            return gettext(value) if value else value
    if not is_message(value):
        return "" if value is None else str(value)
    text = gettext(value[MSGID])
    params = value.get(PARAMS)
    if not isinstance(params, dict):
        return text
    shown = {key: render(p) if is_message(p) else p for key, p in params.items()}
    try:
        return text % shown
    except (KeyError, TypeError, ValueError):  # a catalogue entry that lost a placeholder
        return value[MSGID] % shown if text != value[MSGID] else text


def as_text(value) -> str:
    """What a text column holds: the JSON of a message, or a plain string as it is."""
    if is_message(value):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def render_errors(errors) -> dict[str, list[str]]:
    """A stored {field: [message, ...]} in the active language."""
    if not isinstance(errors, dict):
        return {}
    return {
        field: [render(m) for m in (messages if isinstance(messages, list) else [messages])]
        for field, messages in errors.items()
    }


def from_refusal(refusal) -> Message | str:
    """A refusal (erp1688.refusals.Refused) as a stored message: its lazy message id and its
    parameters, or its text when the message was not a message id."""
    message, params = refusal._message, refusal.params
    msgid = getattr(message, "_args", None) if isinstance(message, Promise) else None
    if not msgid or not isinstance(msgid[0], str):
        return refusal.message
    if not params:
        return stored(msgid[0])
    # Texts in the parameters (an answer of 1688) are cut, so the whole fits a short column.
    return stored(msgid[0]) % {k: v[:150] if isinstance(v, str) else v for k, v in params.items()}
