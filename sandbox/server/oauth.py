"""OAuth2 authorisation code flow: the authorise page, code exchange and refresh.

getToken answers like the real one (docs/protocol.md, OAuth2): ``expires_in`` is a string of
seconds, ``refresh_token_timeout`` a 1688 time, extra ``uid``. A refresh answer carries a new access
token only; the refresh token stays valid and unchanged (so the answer omits it and its
timeout). Errors use the OAuth2 shape ``{"error", "error_description"}`` (docs/protocol.md).
"""

import html
import sqlite3
from urllib.parse import urlencode

from ..wire.http import Request, Response, html_response, json_response, redirect
from ..wire.timefmt import format_1688
from ..world.store import Store

CODE_LIFE_MS = 10 * 60 * 1000
ACCESS_LIFE_S = 36_000  # 10 hours
REFRESH_LIFE_S = 15_552_000  # 180 days


def token_answer(seller: sqlite3.Row, issued: dict, access_life_s: int) -> dict:
    answer = {
        "aliId": seller["ali_id"],
        "resource_owner": seller["login_id"],
        "memberId": seller["member_id"],
        "expires_in": str(access_life_s),
        "access_token": issued["access_token"],
    }
    if issued.get("refresh_token"):
        answer["refresh_token"] = issued["refresh_token"]
        answer["refresh_token_timeout"] = format_1688(issued["refresh_expires_ms"])
    answer["uid"] = seller["ali_id"]
    return answer


def oauth_error(error: str, description: str, status: int = 400) -> Response:
    return json_response({"error": error, "error_description": description}, status=status)


# --- getToken ----------------------------------------------------------------------------
def get_token(store: Store, request: Request, app_key: str) -> Response:
    params = request.params
    app = store.get_app(app_key)
    client_id = params.get("client_id") or app_key
    if app is None or client_id != app_key:
        return oauth_error("invalid_client", f"unknown client_id {client_id}", 401)
    if params.get("client_secret") != app["app_secret"]:
        return oauth_error("invalid_client", "client_secret does not match", 401)
    grant_type = params.get("grant_type", "")
    if grant_type == "authorization_code":
        return _exchange_code(store, params, app_key)
    if grant_type == "refresh_token":
        return _refresh(store, params, app_key)
    return oauth_error("unsupported_grant_type", f"grant_type {grant_type!r} is not supported")


def _exchange_code(store: Store, params: dict[str, str], app_key: str) -> Response:
    code = params.get("code", "")
    if not code:
        return oauth_error("invalid_request", "code is required")
    grant = store.use_code(code)  # single use: a second exchange finds it used
    if grant is None or grant["app_key"] != app_key:
        return oauth_error("invalid_grant", "code is invalid or has been used")
    if grant["expires_ms"] <= store.clock.now_ms():
        return oauth_error("invalid_grant", "code has expired")
    if params.get("redirect_uri", "") != grant["redirect_uri"]:
        return oauth_error("invalid_grant", "redirect_uri does not match the authorisation")
    # "true", "True" (the Python SDK's str(True)) or '"true"' alike.
    with_refresh = params.get("need_refresh_token", "").strip().strip('"').lower() == "true"
    refresh_ms = REFRESH_LIFE_S * 1000 if with_refresh else None
    issued = store.issue_tokens(app_key, grant["member_id"], ACCESS_LIFE_S * 1000, refresh_ms)
    return json_response(token_answer(store.get_seller(grant["member_id"]), issued, ACCESS_LIFE_S))


def _refresh(store: Store, params: dict[str, str], app_key: str) -> Response:
    refresh_token = params.get("refresh_token", "")
    if not refresh_token:
        return oauth_error("invalid_request", "refresh_token is required")
    row = store.get_refresh_token(refresh_token)
    if row is None or row["app_key"] != app_key:
        return oauth_error("invalid_grant", "refresh_token is invalid")
    if row["expires_ms"] <= store.clock.now_ms():
        return oauth_error("invalid_grant", "refresh_token has expired")
    issued = store.refresh_access(refresh_token, ACCESS_LIFE_S * 1000)
    return json_response(token_answer(store.get_seller(row["member_id"]), issued, ACCESS_LIFE_S))


# --- the authorise page ------------------------------------------------------------------
def authorize(store: Store, request: Request) -> Response:
    params = request.params
    client_id, redirect_uri = params.get("client_id", ""), params.get("redirect_uri", "")
    if store.get_app(client_id) is None:
        return _problem_page(f"应用不存在：client_id “{client_id}”。")
    if not redirect_uri.startswith(("http://", "https://")):
        return _problem_page("缺少回调地址，或 redirect_uri 不是 http(s) 地址。")
    if request.method != "POST":
        return html_response(_authorise_page(store, params))
    seller = store.get_seller(params.get("member_id", ""))
    if seller is None:
        return _problem_page("卖家不存在。")
    code = store.create_code(client_id, seller["member_id"], redirect_uri, CODE_LIFE_MS)
    answer = {"code": code}
    if params.get("state"):
        answer["state"] = params["state"]
    separator = "&" if "?" in redirect_uri else "?"
    return redirect(f"{redirect_uri}{separator}{urlencode(answer)}")


PAGE = """<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;max-width:40em;margin:2em auto}}
li{{margin:.6em 0}} button{{padding:.3em 1em}}</style></head>
<body><h1>{title}</h1>{body}
<p><small>1688 开放平台沙箱 / 1688 Open Platform sandbox</small></p></body></html>
"""


def _problem_page(message: str) -> Response:
    body = f"<p>{html.escape(message)}</p>"
    return html_response(PAGE.format(title="授权失败", body=body), 400)


def _authorise_page(store: Store, params: dict[str, str]) -> str:
    hidden = "".join(
        f'<input type="hidden" name="{name}" value="{html.escape(params.get(name, ""))}">'
        for name in ("client_id", "site", "redirect_uri", "state")
    )
    rows = []
    for seller in store.sellers():
        rows.append(
            f'<li><form method="post" action="/oauth/authorize">{hidden}'
            f'<input type="hidden" name="member_id" value="{html.escape(seller["member_id"])}">'
            f"<b>{html.escape(seller['name'])}</b> ({html.escape(seller['login_id'])}, "
            f"{html.escape(seller['member_id'])}) "
            f'<button type="submit">授权</button></form></li>'
        )
    app = html.escape(params["client_id"])
    body = (
        f"<p>应用 {app} 请求访问您的店铺数据。请选择要授权的卖家账号。<br>"
        f"App {app} asks to access your shop. Choose the seller "
        f"account to authorise.</p><ul>{''.join(rows)}</ul>"
    )
    return PAGE.format(title="授权登录", body=body)
