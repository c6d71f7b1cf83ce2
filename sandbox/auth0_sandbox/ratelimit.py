"""Token-bucket rate limiting with Auth0's ``x-ratelimit-*`` headers.

Auth0 limits per tenant with a bucket of ``burst`` tokens refilled at a steady rate and reports
``x-ratelimit-limit`` (bucket size), ``-remaining`` and ``-reset`` (UNIX epoch seconds) on every
response; a 429 carries no Retry-After, so clients must use ``x-ratelimit-reset``.
"""

from __future__ import annotations

import math
import threading
import time

UNLIMITED = 1_000_000


class TokenBucket:
    """Thread-safe bucket; ``burst <= 0`` or ``rate <= 0`` means unlimited."""

    def __init__(self, burst: int, rate: float) -> None:
        self.burst = burst
        self.rate = rate
        self._tokens = float(burst)
        self._stamp = time.monotonic()
        self._lock = threading.Lock()

    @property
    def unlimited(self) -> bool:
        return self.burst <= 0 or self.rate <= 0

    def take(self) -> tuple[bool, dict[str, str]]:
        """Consume one token if possible; returns (allowed, headers)."""
        now_wall = time.time()
        if self.unlimited:
            return True, _headers(UNLIMITED, UNLIMITED, math.ceil(now_wall))
        with self._lock:
            now = time.monotonic()
            self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                allowed = True
                # When the bucket would be full again.
                wait = (self.burst - self._tokens) / self.rate
            else:
                allowed = False
                # When the next token arrives.
                wait = (1.0 - self._tokens) / self.rate
            remaining = int(self._tokens)
        return allowed, _headers(self.burst, remaining, math.ceil(now_wall + wait))


def _headers(limit: int, remaining: int, reset: int) -> dict[str, str]:
    return {
        "x-ratelimit-limit": str(limit),
        "x-ratelimit-remaining": str(remaining),
        "x-ratelimit-reset": str(reset),
    }


# Endpoint families (declared per route in api.ROUTES) and Auth0's buckets per plan
# (API-NOTES "Rate-limit buckets by plan"). ``"*"`` is the bucket every family not listed
# shares; under ``global`` it is sized by the rate_limit_burst/_per_second knobs.
FAMILIES = (
    "users",
    "logs",
    "organizations",
    "organization_members",
    "organization_member_roles",
    "organization_connections",
    "clients",
    "connections",
    "other",
)
_MIN = 60.0
PROFILES: dict[str, dict[str, tuple[int, float]]] = {
    "free": {"*": (2, 2.0)},
    "essentials": {
        "users": (40, 500 / _MIN),
        "logs": (10, 100 / _MIN),
        "organizations": (5, 50 / _MIN),
        "organization_members": (40, 500 / _MIN),
        "organization_member_roles": (20, 200 / _MIN),
        "organization_connections": (5, 50 / _MIN),
        "clients": (5, 100 / _MIN),
        "connections": (5, 50 / _MIN),
        "*": (10, 150 / _MIN),
    },
    "enterprise": {
        "organization_members": (40, 500 / _MIN),
        "organization_member_roles": (20, 200 / _MIN),
        "organization_connections": (10, 100 / _MIN),
        "*": (50, 16.0),
    },
}


class RateLimiter:
    """One bucket per family as the profile says; families without their own share ``*``."""

    def __init__(self, profile: str, burst: int, rate: float) -> None:
        if profile == "global":
            sizes = {"*": (burst, rate)}
        elif profile in PROFILES:
            sizes = PROFILES[profile]
        else:
            raise ValueError(f"unknown rate_limit_profile '{profile}'")
        self.profile = profile
        shared = TokenBucket(*sizes["*"])
        self.buckets = {
            family: TokenBucket(*sizes[family]) if family in sizes else shared
            for family in FAMILIES
        }

    def take(self, family: str) -> tuple[bool, dict[str, str]]:
        return self.buckets.get(family, self.buckets["other"]).take()
