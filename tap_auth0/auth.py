"""Bearer tokens: a fixed Management API token, or one minted from client credentials."""

from __future__ import annotations

import threading
import time
import typing as t

from tap_auth0.errors import AuthError

if t.TYPE_CHECKING:
    from tap_auth0.http_client import Auth0HTTP

# Renew this long before expiry so a request never leaves with a token about to die.
RENEW_MARGIN_SECONDS = 300
RENEW_MARGIN_FRACTION = 0.1


class TokenProvider:
    """Hands out the current token; `renew` is asked for a new one after a 401 'Expired'."""

    renewable = False

    def token(self) -> str:
        raise NotImplementedError

    def renew(self, stale: str) -> str:
        raise NotImplementedError


class StaticToken(TokenProvider):
    """A pasted token cannot be renewed: an expiry ends the run with a clear message."""

    def __init__(self, value: str) -> None:
        self._value = value

    def token(self) -> str:
        return self._value

    def renew(self, stale: str) -> str:
        raise AuthError(
            "The Management API token in 'access_token' has expired; paste a new one or "
            "use 'client_id' + 'client_secret' so the tap can renew it"
        )


class ClientCredentials(TokenProvider):
    """Mints from `/oauth/token`; renews ahead of expiry and once per 401 'Expired token'."""

    renewable = True

    def __init__(
        self,
        http: Auth0HTTP,
        *,
        client_id: str,
        client_secret: str,
        audience: str,
        clock: t.Callable[[], float] = time.monotonic,
    ) -> None:
        self._http = http
        self._client_id = client_id
        self._client_secret = client_secret
        self._audience = audience
        self._clock = clock
        self._lock = threading.Lock()
        self._value: str | None = None
        self._renew_at = 0.0

    def token(self) -> str:
        with self._lock:
            if self._value is None or self._clock() >= self._renew_at:
                self._mint()
            assert self._value is not None
            return self._value

    def renew(self, stale: str) -> str:
        with self._lock:
            # Another thread may already have renewed after the same 401.
            if self._value is not None and self._value != stale:
                return self._value
            self._mint()
            assert self._value is not None
            return self._value

    def _mint(self) -> None:
        body = self._http.mint_token(
            client_id=self._client_id,
            client_secret=self._client_secret,
            audience=self._audience,
        )
        value = body.get("access_token")
        if not isinstance(value, str) or not value:
            raise AuthError(
                f"POST /oauth/token on {self._http.host} answered without an access_token; "
                "check 'domain' points at the tenant"
            )
        try:
            lifetime = float(body.get("expires_in") or 86400)
        except (TypeError, ValueError):
            lifetime = 86400.0
        margin = min(RENEW_MARGIN_SECONDS, lifetime * RENEW_MARGIN_FRACTION)
        self._value = value
        self._renew_at = self._clock() + max(lifetime - margin, 0.0)
        self._http.register_secret(value)
