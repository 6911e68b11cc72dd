"""OAuth2 with 1688 (docs/protocol.md, "OAuth2"): the authorize address, the code exchange,
token refresh and postponement. getToken is not signed, so these send through the transport
below call()."""

from __future__ import annotations

from datetime import UTC, datetime
from secrets import token_urlsafe
from urllib.parse import urlencode

from .. import answers
from ..transport import Transport, parsed
from ..types import TokenInfo

TOKEN_API = "system.oauth2.getToken"  # the name the limiter, the logs and on_request see
POSTPONE_API = "system.oauth2.postponeToken"


class OAuthApi(Transport):
    @staticmethod
    def new_state() -> str:
        return token_urlsafe(24)

    def authorize_url(self, redirect_uri: str, state: str) -> str:
        query = urlencode(
            {
                "client_id": self.app_key,
                "site": "1688",
                "redirect_uri": redirect_uri,
                "state": state,
            }
        )
        return f"{self.authorize_endpoint}?{query}"

    def exchange_code(self, code: str, redirect_uri: str) -> TokenInfo:
        """Trade the callback's code for tokens. A bad or used code raises
        RefreshTokenExpiredError (invalid_grant): authorisation must start again."""
        fields = {
            "grant_type": "authorization_code",
            "need_refresh_token": "true",
            "client_id": self.app_key,
            "client_secret": self._app_secret,
            "redirect_uri": redirect_uri,
            "code": code,
        }
        # A code works once, so an exchange whose answer was lost must not be replayed.
        return self._get_token("http", fields, idempotent=False, hidden=(code,))

    def refresh_access_token(self, refresh_token: str) -> TokenInfo:
        """New access token; TokenInfo.refresh_token None means "keep the old one"."""
        fields = {
            "grant_type": "refresh_token",
            "client_id": self.app_key,
            "client_secret": self._app_secret,
            "refresh_token": refresh_token,
        }
        return self._get_token("param2", fields, idempotent=True, hidden=(refresh_token,))

    def postpone_token(self, refresh_token: str, access_token: str) -> TokenInfo:
        """Extend a refresh token inside the last 30 days of its life (postponeToken).

        The answer carries a new refresh token and the old one dies; it is not replayed when
        its answer is lost (a replay would present a dead token)."""
        fields = {
            "client_id": self.app_key,
            "client_secret": self._app_secret,
            "refresh_token": refresh_token,
            "access_token": access_token,
        }
        url = f"{self.gateway}/openapi/param2/1/system.oauth2/postponeToken/{self.app_key}"
        answer = self._send(
            POSTPONE_API,
            url,
            lambda: fields,
            idempotent=False,
            hidden=(refresh_token, access_token),
        )
        now = datetime.fromtimestamp(self._clock(), UTC)
        return parsed(lambda body: answers.parse_postponed_token(body, now), answer, POSTPONE_API)

    def _get_token(self, protocol: str, fields: dict, *, idempotent: bool, hidden) -> TokenInfo:
        # getToken is not signed (docs/protocol.md, OAuth2).
        url = f"{self.gateway}/openapi/{protocol}/1/system.oauth2/getToken/{self.app_key}"
        answer = self._send(TOKEN_API, url, lambda: fields, idempotent=idempotent, hidden=hidden)
        now = datetime.fromtimestamp(self._clock(), UTC)
        return parsed(lambda body: answers.parse_token(body, now), answer, TOKEN_API)
