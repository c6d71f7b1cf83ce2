"""Opaque bearer tokens tracked server-side, like a tenant's issued Management API tokens.

Real tokens are JWTs, but a client must treat them as opaque; tracking them here lets tests
expire every token at once (``expire_tokens``) to exercise a client's re-authentication path.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass

STATIC_SCOPES = frozenset(
    {
        "read:users",
        "read:user_idp_tokens",
        "read:connections",
        "read:logs",
        "read:roles",
        "read:organizations",
        "read:clients",
    }
)


@dataclass
class _Token:
    scopes: frozenset[str]
    expires_at: float  # epoch seconds
    expired: bool = False


class TokenRegistry:
    """Issues tokens and answers whether a presented one is valid, expired or unknown."""

    def __init__(self, static_token: str | None) -> None:
        self._lock = threading.Lock()
        self._tokens: dict[str, _Token] = {}
        if static_token:
            # Like a token copied from the API Explorer: broad scopes, never minted here.
            self._tokens[static_token] = _Token(STATIC_SCOPES, float("inf"))

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
