"""Token scopes for the connection test: from /oauth/token's answer or the JWT's claims."""

from __future__ import annotations

import base64
import json

from tap_auth0.auth import ClientCredentials, StaticToken, scopes_of


def jwt(claims: dict) -> str:
    def part(obj: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    return f"{part({'alg': 'RS256'})}.{part(claims)}.signature"


def test_scopes_from_a_jwt_scope_claim():
    assert scopes_of(jwt({"scope": "read:users read:roles"})) == {"read:users", "read:roles"}


def test_scopes_from_a_jwt_permissions_claim():
    assert scopes_of(jwt({"permissions": ["read:logs"]})) == {"read:logs"}


def test_opaque_or_broken_tokens_have_no_readable_scopes():
    assert scopes_of("opaque-token") is None
    assert scopes_of("a.!!!.c") is None
    assert scopes_of(jwt({"sub": "x"})) is None
    assert StaticToken("opaque").scopes() is None


def test_client_credentials_scopes_come_from_the_token_answer():
    minted: list[str] = []
    provider = ClientCredentials(
        lambda: {"access_token": "opaque", "expires_in": 86400, "scope": "read:users read:roles"},
        host="acme.us.auth0.com",
        on_token=minted.append,
    )
    assert provider.scopes() == {"read:users", "read:roles"}
    assert minted == ["opaque"]
