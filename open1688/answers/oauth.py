"""Answers of getToken and postponeToken (docs/protocol.md, "OAuth2")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ..errors import MalformedResponseError
from ..types import TokenInfo
from .reader import Reader


def parse_postponed_token(answer: object, now: datetime) -> TokenInfo:
    """postponeToken: a new refresh token (required) and its timeout; the answer may or may not
    repeat an access token (the record does not say), so a missing one is kept by the caller."""
    top = Reader(answer)
    top.text("refresh_token", required=True)
    if top.value("access_token") is None:
        answer = {**top.raw, "access_token": "", "expires_in": top.raw.get("expires_in", "0")}
    return parse_token(answer, now)


def parse_token(answer: object, now: datetime) -> TokenInfo:
    """getToken; a refresh answer may leave out refresh_token (keep the old one)."""
    top = Reader(answer)
    try:
        expires_at = now.astimezone(UTC) + timedelta(
            seconds=top.integer("expires_in", required=True)
        )
    except OverflowError:
        raise MalformedResponseError(
            f"expires_in is out of range: {top.value('expires_in')!r}"
        ) from None
    refresh_expiry = top.time("refresh_token_timeout")
    try:  # year 1 or 9999 in a time zone: a valid-looking stamp with no UTC equivalent
        refresh_expires_at = refresh_expiry.astimezone(UTC) if refresh_expiry else None
    except OverflowError:
        raise MalformedResponseError(
            f"refresh_token_timeout is out of range: {top.value('refresh_token_timeout')!r}"
        ) from None
    return TokenInfo(
        access_token=top.text("access_token", required=True),
        refresh_token=top.text("refresh_token") or None,
        expires_at=expires_at,
        refresh_token_expires_at=refresh_expires_at,
        member_id=top.text("memberId"),
        ali_id=top.text("aliId"),
        resource_owner=top.text("resource_owner"),
    )
