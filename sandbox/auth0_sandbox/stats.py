"""Request counters, so tests can assert how a client behaved (calls, retries, 429s)."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any


class Stats:
    """Thread-safe counters; admin (/_sandbox/) requests are never counted."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.requests = 0
            self.by_endpoint: Counter[str] = Counter()
            self.by_status: Counter[str] = Counter()
            self.by_family: Counter[str] = Counter()
            self.rate_limited_by_endpoint: Counter[str] = Counter()
            self.rate_limited_by_family: Counter[str] = Counter()
            self.rate_limited = 0
            self.faults_injected = 0
            self.tokens_minted = 0

    def record(self, endpoint: str, status: int | str | None, family: str | None = None) -> None:
        """One request (``endpoint`` = route template); status None = connection reset
        (counted as "reset"), a string = a spoiled answer (faults.py); ``family`` = its
        rate-limit family (/api/v2 only)."""
        with self._lock:
            self.requests += 1
            self.by_endpoint[endpoint] += 1
            self.by_status["reset" if status is None else str(status)] += 1
            if family is not None:
                self.by_family[family] += 1
            if status == 429:
                self.rate_limited_by_endpoint[endpoint] += 1
                if family is not None:
                    self.rate_limited_by_family[family] += 1

    def bump(self, name: str) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + 1)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": self.requests,
                "by_endpoint": dict(self.by_endpoint),
                "by_status": dict(self.by_status),
                "by_family": dict(self.by_family),
                "rate_limited_by_endpoint": dict(self.rate_limited_by_endpoint),
                "rate_limited_by_family": dict(self.rate_limited_by_family),
                "rate_limited": self.rate_limited,
                "faults_injected": self.faults_injected,
                "tokens_minted": self.tokens_minted,
            }
