"""Parsing API parameters: every value arrives as a string; structured ones as JSON strings."""

import json
from decimal import Decimal

from ..wire.timefmt import parse_1688


class ParamInvalid(ValueError):
    """A parameter that is present but unusable; APIs turn it into their business error."""

    code = "PARAM_INVALID"


def int_param(params: dict[str, str], name: str, default: int | None = None) -> int | None:
    value = params.get(name, "")
    if value == "":
        return default
    try:
        return int(value)
    except ValueError as error:
        raise ParamInvalid(f"{name} must be an integer, got {value!r}") from error


def time_param(params: dict[str, str], name: str) -> int | None:
    value = params.get(name, "")
    if value == "":
        return None
    try:
        return parse_1688(value)
    except ValueError as error:
        raise ParamInvalid(f"{name} must be a 1688 time like 20261123103000000+0800") from error


def json_value(text: str, name: str):
    """JSON with numbers read as Decimal, so prices never pass through float."""
    try:
        return json.loads(text, parse_float=Decimal)
    except ValueError as error:
        raise ParamInvalid(f"{name} is not valid JSON: {error}") from error


def json_param(params: dict[str, str], name: str, kind: type, default=None):
    value = params.get(name, "")
    if value == "":
        return default
    parsed = json_value(value, name)
    if not isinstance(parsed, kind):
        raise ParamInvalid(f"{name} must be a JSON {'array' if kind is list else 'object'}")
    return parsed


def string_list_param(params: dict[str, str], name: str) -> list[str]:
    """A JSON array of strings (``["published"]``) or a comma-separated list."""
    value = params.get(name, "").strip()
    if not value:
        return []
    items = json_value(value, name) if value.startswith("[") else value.split(",")
    if not isinstance(items, list):
        raise ParamInvalid(f"{name} must be a JSON array")
    return [str(item).strip() for item in items if str(item).strip()]


def id_list_param(params: dict[str, str], name: str) -> list[int]:
    """A JSON array of ids (``[1, 2]``, ids possibly as strings) or ``1,2``."""
    try:
        return [int(item) for item in string_list_param(params, name)]
    except ValueError as error:
        raise ParamInvalid(f"{name} must list integer ids") from error


def flag_param(params: dict[str, str], name: str, default: bool) -> bool:
    """Booleans as the official SDKs spell them: ``true``/``True`` (Python's str(True)),
    ``false``/``"false"`` (a JSON string); absent or empty (the SDKs drop false and empty
    values) means the default."""
    value = params.get(name, "").strip().strip('"').strip().lower()
    if value == "":
        return default
    if value in ("true", "1", "yes"):
        return True
    if value in ("false", "0", "no"):
        return False
    raise ParamInvalid(f"{name} must be true or false")


def decimal_value(value, name: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except ArithmeticError as error:
        raise ParamInvalid(f"{name} must be a number, got {value!r}") from error
    if not number.is_finite():
        raise ParamInvalid(f"{name} must be a finite number")
    return number
