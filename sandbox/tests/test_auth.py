"""POST /oauth/token and bearer-token checks, with Auth0's exact error bodies."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager

import requests
from auth0_sandbox import Sandbox

EXPIRED = {
    "statusCode": 401,
    "error": "Unauthorized",
    "message": "Expired token received for JSON Web Token validation",
    "attributes": {"error": "Expired token received for JSON Web Token validation"},
}


def _mint(sb: Sandbox, as_json: bool = False, **over: str) -> requests.Response:
    body = {
        "grant_type": "client_credentials",
        "client_id": sb.config.client_id,
        "client_secret": sb.config.client_secret,
        "audience": sb.audience,
        **over,
    }
    url = f"{sb.base_url}/oauth/token"
    return requests.post(url, json=body) if as_json else requests.post(url, data=body)


def _get(sb: Sandbox, token: str | None, path: str = "/api/v2/users") -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.get(f"{sb.base_url}{path}", headers=headers, params={"per_page": 1})


def test_mint_form_and_json_then_use(sb: Sandbox) -> None:
    for as_json in (False, True):
        r = _mint(sb, as_json)
        assert r.status_code == 200
        assert r.headers["Content-Type"].startswith("application/json")
        token = r.json()["access_token"]
        assert _get(sb, token).status_code == 200
    assert sb.stats()["tokens_minted"] >= 2


def test_wrong_secret_and_audience(sb: Sandbox) -> None:
    r = _mint(sb, client_secret="nope")
    assert r.status_code == 401
    assert r.json() == {"error": "access_denied", "error_description": "Unauthorized"}
    r = _mint(sb, as_json=True, client_id="other")
    assert r.status_code == 401
    r = _mint(sb, audience="https://elsewhere.example.com/api/v2/")
    assert r.status_code == 403
    assert r.json() == {
        "error": "access_denied",
        "error_description": "Service not enabled within domain: https://elsewhere.example.com/api/v2/",
    }
    r = _mint(sb, grant_type="password")
    assert r.status_code in (400, 403) and "error" in r.json()


def test_missing_invalid_and_malformed_auth(sb: Sandbox) -> None:
    r = _get(sb, None)
    assert r.status_code == 401
    assert r.json() == {
        "statusCode": 401,
        "error": "Unauthorized",
        "message": "Missing authentication",
    }
    r = _get(sb, "not-a-real-token")
    assert r.status_code == 401
    assert r.json() == {
        "statusCode": 401,
        "error": "Unauthorized",
        "message": "Invalid token",
        "attributes": {"error": "Invalid token"},
    }
    r = requests.get(f"{sb.base_url}/api/v2/users", headers={"Authorization": "Basic abc"})
    assert r.status_code == 400 and r.json()["message"] == "Bad HTTP authentication header format"


def test_scopes(sb: Sandbox) -> None:
    sb.configure(scopes="read:connections")
    token = _mint(sb).json()["access_token"]
    r = _get(sb, token)
    assert r.status_code == 403
    assert r.json() == {
        "statusCode": 403,
        "error": "Forbidden",
        "message": "Insufficient scope, expected any of: read:users,read:current_user,"
        "read:user_idp_tokens",
        "errorCode": "insufficient_scope",
    }
    assert _get(sb, token, "/api/v2/connections").status_code == 200
    sb.configure(scopes="read:users")
    token = _mint(sb).json()["access_token"]
    r = _get(sb, token, "/api/v2/connections")
    assert r.status_code == 403 and r.json()["errorCode"] == "insufficient_scope"


def test_expire_tokens_and_lifetime(fresh: Callable[..., AbstractContextManager[Sandbox]]) -> None:
    with fresh(access_token="static") as sb:
        minted = _mint(sb).json()["access_token"]
        assert _get(sb, "static").status_code == 200
        sb.expire_tokens()
        for token in ("static", minted):
            r = _get(sb, token)
            assert r.status_code == 401 and r.json() == EXPIRED
        assert _get(sb, _mint(sb).json()["access_token"]).status_code == 200
        sb.configure(token_lifetime=1)
        body = _mint(sb).json()
        assert body["expires_in"] == 1
        time.sleep(1.05)
        assert _get(sb, body["access_token"]).json() == EXPIRED
