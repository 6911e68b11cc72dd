"""Encrypted model fields (Fernet via MultiFernet, so keys can rotate)."""

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models


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
