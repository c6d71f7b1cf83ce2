"""Progress lines with an ETA, for every part of a run whose total is known up front.

A long run (a request per user at 2 a second is hours) must show it is moving: each
`Progress` logs `<what>: 1,200 of 5,000 users (24%), 8.1/s, about 7m49s left` at most once an
interval (a minute), whenever work advances, and once at the end. The interval can be
shortened with the `TAP_AUTH0_PROGRESS_SECONDS` environment variable (tests and
demonstrations; it is not a setting).
"""

from __future__ import annotations

import os
import threading
import time
import typing as t

if t.TYPE_CHECKING:
    import logging

DEFAULT_INTERVAL = 60.0
ENV_INTERVAL = "TAP_AUTH0_PROGRESS_SECONDS"


def interval_seconds() -> float:
    """The interval between progress lines (the environment's, if it gives a positive one)."""
    raw = os.environ.get(ENV_INTERVAL, "")
    try:
        value = float(raw)
    except ValueError:
        return DEFAULT_INTERVAL
    return value if value > 0 else DEFAULT_INTERVAL


def duration(seconds: float) -> str:
    """`45s`, `7m49s`, `3h28m`: short enough for a log line, precise enough to plan by."""
    seconds = max(int(round(seconds)), 0)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


class Progress:
    """Counts units of work (records, users, organizations) against a total that may only
    become known later (`total` is read again at every line)."""

    def __init__(
        self,
        logger: logging.Logger,
        what: str,
        unit: str,
        total: int | t.Callable[[], int | None] | None = None,
        *,
        interval: float | None = None,
        clock: t.Callable[[], float] = time.monotonic,
    ) -> None:
        self.logger = logger
        self.what = what
        self.unit = unit
        self._total = total
        self.interval = interval_seconds() if interval is None else interval
        self._clock = clock
        self.started = clock()
        self._next = self.started + self.interval
        self.done = 0
        self.lines = 0
        self._lock = threading.Lock()

    @property
    def total(self) -> int | None:
        total = self._total() if callable(self._total) else self._total
        return total if isinstance(total, int) and total >= 0 else None

    def advance(self, count: int = 1) -> None:
        self.done += count
        now = self._clock()
        if now >= self._next:
            with self._lock:
                if now < self._next:
                    return
                self._next = now + self.interval
            self.log(now)

    def update(self, done: int) -> None:
        """Set the count (for work counted elsewhere), logging when a line is due."""
        self.advance(done - self.done)

    def finish(self) -> None:
        """One closing line, if the work took long enough to have had any."""
        if self.lines:
            self.log(self._clock(), final=True)

    def log(self, now: float, *, final: bool = False) -> None:
        self.lines += 1
        elapsed = max(now - self.started, 1e-9)
        rate = self.done / elapsed
        total = self.total
        of = f" of {total:,}" if total is not None else ""
        share = f" ({min(self.done / total, 1.0):.0%})" if total else ""
        if final:
            tail = f" in {duration(elapsed)}"
        elif total is not None and rate > 0:
            tail = f", {rate:,.1f}/s, about {duration(max(total - self.done, 0) / rate)} left"
        else:
            tail = f", {rate:,.1f}/s"
        self.logger.info(
            "Progress: %s: %s%s %s%s%s", self.what, f"{self.done:,}", of, self.unit, share, tail
        )
