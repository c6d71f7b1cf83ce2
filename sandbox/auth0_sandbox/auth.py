"""Opaque bearer tokens tracked server-side, like a tenant's issued Management API tokens.

Real tokens are JWTs, but a client must treat them as opaque; tracking them here lets tests
expire every token at once (``expire_tokens``) to exercise a client's re-authentication path.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass

from .errors import auth0_error

# Read scopes of every endpoint the sandbox serves (default for minted tokens).
READ_SCOPES = (
    "read:users",
    "read:connections",
    "read:roles",
    "read:role_members",
    "read:organizations",
    "read:organizations_summary",
    "read:organization_members",
    "read:organization_member_roles",
    "read:organization_connections",
    "read:organization_invitations",
    "read:clients",
    "read:client_grants",
    "read:resource_servers",
    "read:grants",
    "read:actions",
    "read:log_streams",
    "read:authentication_methods",
    "read:sessions",
    "read:refresh_tokens",
    "read:logs",
    "read:stats",
)
# Write scopes of the Management API mutations the sandbox serves (api_writes.py); granted by
# default too, so tests can change the tenant the way an admin would.
WRITE_SCOPES = (
    "update:users",
    "delete:users",
    "create:role_members",
    "delete:role_members",
    "delete:authentication_methods",
    "delete:sessions",
    "delete:refresh_tokens",
    "create:roles",
    "update:roles",
    "delete:roles",
    "create:organizations",
    "update:organizations",
    "delete:organizations",
    "create:organization_members",
    "delete:organization_members",
    "create:organization_member_roles",
    "delete:organization_member_roles",
    "create:organization_connections",
    "delete:organization_connections",
    "create:organization_invitations",
    "delete:organization_invitations",
    "create:clients",
    "update:clients",
    "delete:clients",
    "update:connections",
    "delete:connections",
)
DEFAULT_SCOPES = READ_SCOPES + WRITE_SCOPES
# Never granted by default: with it Auth0 sends client secrets (see tenant.SECRET_CLIENT_FIELDS).
CLIENT_KEYS_SCOPE = "read:client_keys"
# The static token is like one copied from the API Explorer: broad scopes.
STATIC_SCOPES = frozenset(
    {
        *DEFAULT_SCOPES,
        "read:user_idp_tokens",
        "read:logs",
        "read:clients",
        "read:resource_servers",
    }
)


def require(scopes: frozenset[str], any_of: tuple[str, ...]) -> None:
    """Auth0's 403 unless the token has at least one of ``any_of``."""
    if not scopes.intersection(any_of):
        raise auth0_error(
            403, f"Insufficient scope, expected any of: {','.join(any_of)}", "insufficient_scope"
        )


@dataclass
class _Token:
    scopes: frozenset[str]
    expires_at: float  # epoch seconds
    expired: bool = False


class TokenRegistry:
    """Issues tokens and answers whether a presented one is valid, expired or unknown."""

    def __init__(self, static_token: str | None, static_scopes: str | None = None) -> None:
        self._lock = threading.Lock()
        self._tokens: dict[str, _Token] = {}
        self._static = static_token
        if static_token:
            # Like a token copied from the API Explorer: broad scopes, never minted here.
            self._tokens[static_token] = _Token(STATIC_SCOPES, float("inf"))
            self.set_static_scopes(static_scopes)

    def set_static_scopes(self, scopes: str | None) -> None:
        """Scopes of the static token (space-separated; None = STATIC_SCOPES)."""
        with self._lock:
            token = self._tokens.get(self._static or "")
            if token is not None:
                token.scopes = frozenset(scopes.split()) if scopes is not None else STATIC_SCOPES

    def mint(self, scopes: str, lifetime: float) -> str:
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[token] = _Token(frozenset(scopes.split()), time.time() + lifetime)
        return token

    def check(self, token: str) -> tuple[str, frozenset[str]]:
        """("ok", scopes) | ("expired", ∅) | ("invalid", ∅)."""
        with self._lock:
            t = self._tokens.get(token)
        if t is None:
            return "invalid", frozenset()
        if t.expired or time.time() >= t.expires_at:
            return "expired", frozenset()
        return "ok", t.scopes

    def expire_all(self) -> int:
        """Expire every token issued so far (and the static one); returns how many."""
        with self._lock:
            for t in self._tokens.values():
                t.expired = True
            return len(self._tokens)
