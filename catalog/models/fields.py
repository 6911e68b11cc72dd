"""Model fields every domain's models use: JSON that takes Decimal and refuses NUL characters,
the money columns' size, and encrypted text (Fernet via MultiFernet, so keys can rotate)."""

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import ProhibitNullCharactersValidator
from django.db import models

MONEY = {"max_digits": 14, "decimal_places": 2}


def json_texts(value):
    """Every string in a JSON value, keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from json_texts(key)
            yield from json_texts(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from json_texts(item)


class ProhibitNullCharactersInJSON(ProhibitNullCharactersValidator):
    """PostgreSQL's jsonb refuses "\u0000" anywhere: a form error, not a database error."""

    def __call__(self, value):
        if any("\x00" in text for text in json_texts(value)):
            raise ValidationError(self.message, code=self.code)


class JSONField(models.JSONField):
    """JSON that accepts Decimal (1688 prices are parsed as Decimal, never float)."""

    default_validators = [ProhibitNullCharactersInJSON()]

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("encoder", DjangoJSONEncoder)
        super().__init__(*args, **kwargs)


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in keys])


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


class EncryptedTextField(models.TextField):
    """Text stored as a Fernet token; the plain value never reaches the database."""

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value in (None, ""):
            return value
        return fernet().encrypt(value.encode()).decode()

    def from_db_value(self, value, expression, connection):
        if value in (None, ""):
            return value
        try:
            return fernet().decrypt(value.encode()).decode()
        except InvalidToken as exc:
            raise ValueError(
                f"{self.model.__name__}.{self.name} cannot be decrypted: "
                "FIELD_ENCRYPTION_KEY does not hold the key it was written with"
            ) from exc
