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


def test_a_renewal_never_hands_on_a_token_that_is_itself_due():
    """After a 401, a thread gets the token another thread renewed to, unless that one is
    past its renewal point too (short-lived tokens): then a new one is minted, instead of
    sending a request that can only draw the next 401."""
    now = [0.0]
    count = iter(range(1, 100))
    provider = ClientCredentials(
        lambda: {"access_token": f"t{next(count)}", "expires_in": 3},
        host="acme.us.auth0.com",
        clock=lambda: now[0],
    )
    assert provider.token() == "t1"
    assert provider.renew("t1") == "t2"  # the refused token: a new one
    assert provider.renew("t1") == "t2"  # another thread, same 401: the renewed one
    now[0] = 2.9  # t2 is due (3 s lifetime, 10% margin)
    assert provider.renew("t1") == "t3", "a due token is not handed on"
