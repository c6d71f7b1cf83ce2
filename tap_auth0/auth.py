"""Bearer tokens: a fixed Management API token, or one minted from client credentials.

This module knows nothing of HTTP: minting is a callable handed in by whoever builds the
client (`client.connect`), so auth and the HTTP client do not import each other.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import time
import typing as t

from tap_auth0.errors import AuthError, TokenExpired

# () -> the /oauth/token answer (access_token, expires_in, scope, ...)
Mint = t.Callable[[], t.Mapping[str, t.Any]]

# Renew this long before expiry so a request never leaves with a token about to die.
RENEW_MARGIN_SECONDS = 300
RENEW_MARGIN_FRACTION = 0.1


class TokenProvider:
    """Hands out the current token; `renew` is asked for a new one after a 401 'Expired'."""

    renewable = False

    def scopes(self) -> frozenset[str] | None:
        """The token's scopes, from `/oauth/token`'s answer or the JWT's claims; None when
        unreadable (an opaque token)."""
        return scopes_of(self.token())

    def token(self) -> str:
        raise NotImplementedError

    def renew(self, stale: str) -> str:
        raise NotImplementedError

    def due(self, token: str) -> bool:
        """Whether `token` should no longer be sent (a newer one exists, or it is due for
        renewal)."""
        return False


class StaticToken(TokenProvider):
    """A pasted token cannot be renewed: an expiry ends the run with a clear message."""

    def __init__(self, value: str) -> None:
        self._value = value

    def token(self) -> str:
        return self._value

    def renew(self, stale: str) -> str:
        raise TokenExpired()


class ClientCredentials(TokenProvider):
    """Mints from `/oauth/token`; renews ahead of expiry and once per 401 'Expired token'."""

    renewable = True

    def __init__(
        self,
        mint: Mint,
        *,
        host: str,
        on_token: t.Callable[[str], None] = lambda _: None,
        clock: t.Callable[[], float] = time.monotonic,
    ) -> None:
        self._mint_call = mint
        self._host = host
        self._on_token = on_token
        self._clock = clock
        self._lock = threading.Lock()
        self._value: str | None = None
        self._scope: str | None = None
        self._renew_at = 0.0

    def scopes(self) -> frozenset[str] | None:
        self.token()
        if self._scope is not None:
            return frozenset(self._scope.split())
        return super().scopes()

    def token(self) -> str:
        with self._lock:
            if self._value is None or self._clock() >= self._renew_at:
                self._mint()
            assert self._value is not None
            return self._value

    def due(self, token: str) -> bool:
        with self._lock:
            return token != self._value or self._clock() >= self._renew_at

    def renew(self, stale: str) -> str:
        with self._lock:
            # Another thread may already have renewed after the same 401 (unless that token
            # is itself due: handing it on would only draw the next 401).
            fresh = self._value is not None and self._clock() < self._renew_at
            if fresh and self._value != stale:
                assert self._value is not None
                return self._value
            self._mint()
            assert self._value is not None
            return self._value

    def _mint(self) -> None:
        body = self._mint_call()
        value = body.get("access_token")
        if not isinstance(value, str) or not value:
            raise AuthError(
                f"POST /oauth/token on {self._host} answered without an access_token; "
                "check 'domain' points at the tenant"
            )
        try:
            lifetime = float(body.get("expires_in") or 86400)
        except (TypeError, ValueError):
            lifetime = 86400.0
        margin = min(RENEW_MARGIN_SECONDS, lifetime * RENEW_MARGIN_FRACTION)
        self._value = value
        scope = body.get("scope")
        self._scope = scope if isinstance(scope, str) else None
        self._renew_at = self._clock() + max(lifetime - margin, 0.0)
        self._on_token(value)


def scopes_of(token: str) -> frozenset[str] | None:
    """Scopes in a JWT's `scope` (space-separated) or `permissions` claim; None if the token
    is not a readable JWT. The signature is not checked: this only tells the user early."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = parts[1] + "=" * (-len(parts[1]) % 4)
        claims = json.loads(base64.urlsafe_b64decode(payload))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    if not isinstance(claims, dict):
        return None
    scope = claims.get("scope")
    if isinstance(scope, str):
        return frozenset(scope.split())
    permissions = claims.get("permissions")
    if isinstance(permissions, list):
        return frozenset(p for p in permissions if isinstance(p, str))
    return None
