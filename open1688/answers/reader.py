"""The typed reader every answer parser is built on, and the success and error shapes several
API families share. Answers must come from `json.loads(body, parse_float=Decimal)` so
prices never pass through float.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation

from ..errors import BusinessError, MalformedResponseError
from ..timefmt import parse_1688_time

_INTEGER = re.compile(r"-?[0-9]+")
_INT64 = range(-(2**63), 2**63)  # what an integer column (bigint) can store


class Reader:
    """Typed reads from one JSON object; every error names the full path of the field.

    A child's path is worked out only when an error needs it: a detail answer has some
    thousands of fields, and most are read without one."""

    __slots__ = ("raw", "_at", "_parent", "_key", "_index")

    def __init__(self, obj: object, at: str = "", *, parent=None, key="", index=None) -> None:
        self.raw, self._at, self._parent, self._key, self._index = obj, at, parent, key, index
        if not isinstance(obj, dict):
            raise MalformedResponseError(f"{self.at or 'answer'} is not a JSON object")

    @property
    def at(self) -> str:
        if self._parent is None:
            return self._at
        at = self._parent.path(self._key)
        return at if self._index is None else f"{at}[{self._index}]"

    def path(self, key: str) -> str:
        at = self.at
        return f"{at}.{key}" if at else key

    def value(self, key: str, *, required: bool = False) -> object:
        value = self.raw.get(key)
        if required and value is None:
            raise MalformedResponseError(f"answer lacks {self.path(key)}")
        return value

    def child(self, key: str, *, required: bool = True) -> Reader:
        value = self.value(key, required=required)
        return Reader({} if value is None else value, parent=self, key=key)

    def _list(self, key: str) -> list:
        value = self.value(key)
        if value is None:  # the APIs leave out empty lists
            return []
        if not isinstance(value, list):
            raise MalformedResponseError(f"{self.path(key)} is not a list")
        return value

    def children(self, key: str) -> list[Reader]:
        return [
            Reader(item, parent=self, key=key, index=i) for i, item in enumerate(self._list(key))
        ]

    def dicts(self, key: str) -> tuple[dict, ...]:
        items = self._list(key)
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                Reader(item, parent=self, key=key, index=i)  # raises, naming the item's path
        return tuple(items)

    def strings(self, key: str) -> tuple[str, ...]:
        return tuple(str(item) for item in self._list(key))

    def text(self, key: str, *, required: bool = False) -> str:
        value = self.raw.get(key)
        if type(value) is str:  # most reads of an answer: at once
            return value
        value = self.value(key, required=required)
        return "" if value is None else str(value)

    def integer(self, key: str, *, required: bool = False) -> int | None:
        value = self.raw.get(key)
        if type(value) is int and value in _INT64:  # most reads: at once
            return value
        value = self.value(key, required=required)
        if value is None or value == "":
            if required:  # "" is no more an integer than a missing key
                raise MalformedResponseError(f"answer lacks {self.path(key)}")
            return None
        # At most 20 digits (every 1688 integer fits 64 bits): int() of "1e9999999" as a
        # Decimal takes minutes, and of 5,000 digits as text raises a bare ValueError.
        if type(value) is int:  # the common case first (bool is an int, but not `type` int)
            number = value
        elif (
            isinstance(value, str)
            and _INTEGER.fullmatch(value.strip())
            and len(value.strip()) <= 21
        ) or (
            isinstance(value, Decimal)
            and value == value.to_integral_value()
            and (not value or value.adjusted() < 20)
        ):
            number = int(value)
        else:
            raise MalformedResponseError(f"{self.path(key)} is not an integer: {value!r}")
        if number not in _INT64:  # no integer column (bigint) could store it
            raise MalformedResponseError(f"{self.path(key)} is out of the 64-bit integer range")
        return number

    def decimal(self, key: str, *, required: bool = False) -> Decimal | None:
        value = self.raw.get(key)
        if type(value) is Decimal and value.is_finite():  # as json.loads(parse_float=Decimal) gives
            return value
        value = self.value(key, required=required)
        if value is None or value == "":
            return None
        try:
            number = None if isinstance(value, bool) else Decimal(str(value).strip())
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite():
            raise MalformedResponseError(f"{self.path(key)} is not a number: {value!r}")
        return number

    def time(self, key: str, parse=parse_1688_time) -> datetime | None:
        try:
            return parse(self.value(key))
        except MalformedResponseError as exc:
            raise MalformedResponseError(f"{self.path(key)}: {exc.message}") from None


def is_true(flag: object) -> bool:
    return flag is True or (isinstance(flag, str) and flag.lower() == "true")


def raise_unless_success(result: Reader) -> None:
    """List and search answers: `success` false (bool or string) carries code/message/subCode."""
    if "success" in result.raw and not is_true(result.raw["success"]):
        message = "; ".join(filter(None, (result.text("message"), result.text("subMessage"))))
        raise BusinessError(
            message or "call failed",
            code=result.text("code") or None,
            sub_code=result.text("subCode") or None,
        )


def raise_product_error(top: Reader) -> None:
    """product.get/add/edit: `success` false, or an `errorMsg`/`errMsg`."""
    message = top.text("errorMsg") or top.text("errMsg")
    if message or ("success" in top.raw and not is_true(top.raw["success"])):
        code = top.text("errorCode") or top.text("errCode") or None
        raise BusinessError(message or "call failed", code=code)


def raise_category_error(top: Reader) -> None:
    """Category APIs: `errorMsg`, or `success`/`succes` (the SDK's spelling) false."""
    flag = top.raw.get("success", top.raw.get("succes"))
    if flag is not None and is_true(flag):
        return
    message = top.text("errorMsg") or top.text("errMsg") or top.text("message")
    if message or flag is not None:
        code = top.text("errorCode") or top.text("errCode") or top.text("code") or None
        raise BusinessError(message or "call failed", code=code)


def result_list(top: Reader, *keys: str) -> list[Reader]:
    """A list at one of `keys`, at the top or inside `result` (and `result.result`)."""
    readers = [top]
    for _ in range(2):
        inner = readers[-1].value("result")
        if isinstance(inner, dict):
            readers.append(readers[-1].child("result"))
    for reader in readers:
        raise_category_error(reader)
    for reader in readers:
        for key in keys:
            if isinstance(reader.raw.get(key), list):
                return reader.children(key)
    for reader in readers:
        if any(key in reader.raw for key in keys):
            return []  # present but null/empty
    raise MalformedResponseError(f"answer lacks {' / '.join(keys)}")


def without_nul(value: object) -> object:
    """The answer with NUL characters removed from every string (keys too)."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {without_nul(k): without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_nul(v) for v in value]
    return value
