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
