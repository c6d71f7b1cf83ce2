"""One request scheduler per run, shared by every stream and thread.

Auth0 limits each tenant with a token bucket and reports it on every response
(`x-ratelimit-limit` = bucket size, `-remaining` = tokens left, `-reset` = epoch second
the bucket is full again). The scheduler mirrors that bucket locally: it spends the
burst, then paces at the refill rate it measures from the headers, so that 429s stay
rare and other clients of the tenant keep their share. A 429 stops every thread until
the reset the tenant announced; an optional cap (`max_requests_per_second`) leaves
headroom below the tenant's limit.
"""

from __future__ import annotations

import collections
import threading
import time
import typing as t
from dataclasses import dataclass

# Keep this many tokens in a large bucket so our in-flight requests that the headers do
# not yet reflect have room; a tiny bucket (free tier: 2) cannot spare a whole token.
RESERVE_TOKENS = 1.0
SMALL_BUCKET = 10
# Auth0's documented sustained rates by bucket size, used until our own measurement is
# ready (then the measurement wins). Where several buckets share a size, the lowest:
# 2 free (2/s); 5 Essentials organizations / connections (50/min) and clients (100/min);
# 10 Essentials logs (100/min) and other endpoints (150/min), Enterprise organization
# connections (100/min) and non-production (2/s); 20 member roles (200/min); 40 Read
# Users and organization members (500/min); 50 Enterprise (16/s).
DOCUMENTED_RATES = {2: 2.0, 5: 50 / 60, 10: 100 / 60, 20: 200 / 60, 40: 500 / 60, 50: 16.0}
# On a 429 our estimate was too high, whatever produced it.
BACKOFF_FACTOR = 0.85
# ... but never below the slowest documented bucket's pace (50 a minute), or a storm of
# 429s could shrink it until the scheduler all but stops.
MIN_RATE = 0.5
# Answers showing a full bucket while we were pacing mean the estimate is too low.
SPEEDUP_FACTOR = 1.25
MAX_RATE = 1000.0
# Pace at this fraction of the measured refill rate: measurement noise must not tip us
# over the limit.
RATE_SAFETY = 0.97
# Window for measuring the refill rate from successive headers.
RATE_WINDOW_SECONDS = 8.0
MAX_SINGLE_WAIT = 60.0


@dataclass
class RateHeaders:
    limit: int
    remaining: int
    reset: float  # epoch seconds

    @classmethod
    def parse(cls, headers: t.Mapping[str, str]) -> RateHeaders | None:
        try:
            return cls(
                limit=int(headers["x-ratelimit-limit"]),
                remaining=int(headers["x-ratelimit-remaining"]),
                reset=float(headers["x-ratelimit-reset"]),
            )
        except (KeyError, TypeError, ValueError):
            return None


class RateScheduler:
    """Gatekeeper every request passes: `acquire()` before sending, `release()` after."""

    def __init__(
        self,
        max_requests_per_second: float | None = None,
        *,
        clock: t.Callable[[], float] = time.monotonic,
        wall: t.Callable[[], float] = time.time,
    ) -> None:
        self._cond = threading.Condition()
        self._clock = clock
        self._wall = wall
        self._min_interval = 1.0 / max_requests_per_second if max_requests_per_second else 0.0
        self._next_slot = 0.0
        self.capacity: int | None = None
        self._tokens: float | None = None
        self._tokens_at = clock()
        self.rate: float | None = None
        self._blocked_until = 0.0
        self._inflight = 0
        self._pacing = False
        self._rate_source = "none"
        self._completed = 0
        # Answers arrive out of order (threads), so requests are numbered as they are sent
        # (a thread keeps its numbers from acquire() to release()); see `_learn`.
        self._sent = 0
        self._basis_sent = 0  # requests sent when an answer's count was last taken as is
        self._count_remaining = 0  # the remaining of the answer our count comes from
        self._count_key: str | None = None  # and the endpoint that answered it
        self._tickets = threading.local()
        self._samples: collections.deque[tuple[float, int, int, int]] = collections.deque()
        # Figures for logs and the benchmark.
        self.requests = 0
        self.throttled = 0
        self.waited_seconds = 0.0

    @property
    def max_rate(self) -> float | None:
        """The fixed cap this scheduler was made with (requests/s), if any."""
        return 1.0 / self._min_interval if self._min_interval else None

    # -- the gate -----------------------------------------------------------------------
    def acquire(self) -> None:
        with self._cond:
            while True:
                now = self._clock()
                wait = self._wait_needed(now)
                if wait <= 0:
                    self._inflight += 1
                    self.requests += 1
                    self._sent += 1
                    self._my_tickets().append(self._sent)
                    if self._tokens is not None:
                        self._tokens -= 1
                    if self._min_interval:
                        self._next_slot = max(now, self._next_slot) + self._min_interval
                    return
                wait = min(wait, MAX_SINGLE_WAIT)
                self.waited_seconds += wait
                self._cond.wait(wait)

    def _wait_needed(self, now: float) -> float:
        if now < self._blocked_until:
            return self._blocked_until - now
        if self._min_interval and now < self._next_slot:
            return self._next_slot - now
        if self.capacity is None:
            # Until the first answer tells us the budget, send one request at a time.
            return 0.0 if self._inflight == 0 else 0.05
        tokens = self._current_tokens(now)
        reserve = RESERVE_TOKENS if self.capacity > SMALL_BUCKET else 0.0
        if tokens >= 1.0 + reserve:
            return 0.0
        self._pacing = True
        rate = self.rate
        if not rate:
            # Budget known but refill not yet measured: go one at a time, slowly.
            return 0.0 if self._inflight == 0 and tokens >= 1.0 else 0.1
        return (1.0 + reserve - tokens) / (rate * RATE_SAFETY)

    def _current_tokens(self, now: float) -> float:
        assert self._tokens is not None and self.capacity is not None
        if self.rate:
            elapsed = max(now - self._tokens_at, 0.0)
            self._tokens = min(
                self._tokens + elapsed * self.rate * RATE_SAFETY, float(self.capacity)
            )
        self._tokens_at = now
        return self._tokens

    def release(
        self,
        headers: t.Mapping[str, str] | None,
        status: int | None,
        key: str | None = None,
    ) -> None:
        """Record one answer (or a failure with no answer: headers None) from endpoint
        `key` (None: the endpoint does not matter, as for a lone scheduler)."""
        with self._cond:
            self._inflight = max(self._inflight - 1, 0)
            mine = self._my_tickets()
            number = mine.pop() if mine else None
            now = self._clock()
            parsed = RateHeaders.parse(headers) if headers is not None else None
            if parsed is not None:
                self._completed += 1
                self._learn(now, parsed, number, key)
            if status == 429:
                self.throttled += 1
                self._tokens = 0.0
                self._tokens_at = now
                if self.rate:
                    self.rate = max(self.rate * BACKOFF_FACTOR, MIN_RATE)
                self._samples.clear()
                self._block_until_reset(now, parsed)
            self._cond.notify_all()

    def cancel(self) -> None:
        """Take back a request `acquire`d here that went to another bucket (a probe that
        waited on every known bucket): its token and its count return."""
        with self._cond:
            self._inflight = max(self._inflight - 1, 0)
            mine = self._my_tickets()
            if mine:
                mine.pop()
            self.requests -= 1
            if self._tokens is not None and self.capacity is not None:
                self._tokens = min(self._tokens + 1.0, float(self.capacity))
            self._cond.notify_all()

    def observe(
        self, headers: t.Mapping[str, str] | None, status: int | None, key: str | None = None
    ) -> None:
        """Learn from an answer to a request sent through another scheduler (the pool's
        first request on an endpoint), without counting it in flight here."""
        with self._cond:
            self._inflight += 1
        self.release(headers, status, key)
        with self._cond:
            self.requests += 1

    def _my_tickets(self) -> list[int]:
        tickets = getattr(self._tickets, "numbers", None)
        if tickets is None:
            tickets = self._tickets.numbers = []
        return tickets

    def _learn(
        self, now: float, h: RateHeaders, number: int | None = None, key: str | None = None
    ) -> None:
        # Tokens the server had left, minus requests of ours still unanswered: some may
        # have been counted already, so this is never above the truth.
        told = float(h.remaining) - self._inflight
        if self._from_another_bucket(now, told, key):
            # Two buckets of one size share this scheduler (Essentials: organizations,
            # clients, connections all hold 5), and another endpoint's bucket has more left
            # than ours: the count keeps the emptier one, and the answer is no sample for the
            # refill measurement (from the emptier bucket to this one it would measure a
            # refill that never happened) nor a sign that we paced too slowly. Were it the
            # same bucket after all, the answers that follow still measure its refill.
            self.capacity = h.limit
            self._pacing = False
            return
        if self._tokens is None or (number is not None and number > self._basis_sent):
            # Sent after the count was last taken, so the server saw it later: fresher
            # (after a 429 storm this raises the count again, so nothing starves).
            self._tokens = told
            self._basis_sent, self._count_remaining = self._sent, h.remaining
            self._count_key = key
        elif self.capacity is not None:
            # In flight when the count was taken: an older answer can only lower it. One
            # showing more left than the answer our count comes from was served before
            # that one, so it was counted twice there (spent, and unanswered): give it back.
            current = self._current_tokens(now)
            give_back = 1.0 if h.remaining > self._count_remaining else 0.0
            if told < current + give_back:
                self._tokens, self._count_remaining = told, h.remaining
                self._count_key = key
            else:
                self._tokens = current + give_back
        else:
            self._tokens = told
        self.capacity = h.limit
        self._tokens_at = now
        self._samples.append((now, h.remaining, self._completed, h.limit))
        while self._samples and now - self._samples[0][0] > RATE_WINDOW_SECONDS:
            self._samples.popleft()
        measured = self._measure_rate()
        if measured is not None:
            self.rate, self._rate_source = min(measured, MAX_RATE), "measured"
            return
        if self.rate is None:
            if h.limit in DOCUMENTED_RATES:
                self.rate, self._rate_source = DOCUMENTED_RATES[h.limit], "documented"
            elif h.remaining < h.limit and h.reset - self._wall() + 1.0 > 0:
                # From the reset time, pessimistic by a second of rounding.
                self.rate = (h.limit - h.remaining) / (h.reset - self._wall() + 1.0)
                self._rate_source = "reset header"
            else:
                self.rate, self._rate_source = max(h.limit / 60.0, 0.5), "guess"
        elif self._pacing and h.remaining >= h.limit - 1 and h.limit < 100_000:
            # We waited, yet the bucket was (nearly) full: we are leaving budget unused.
            self.rate = min(self.rate * SPEEDUP_FACTOR, MAX_RATE)
            self._rate_source = "adjusted"
        self._pacing = False

    def _from_another_bucket(self, now: float, told: float, key: str | None) -> bool:
        """An answer from an endpoint other than the one our count comes from, with over a
        token more than the count allows: it was counted in a different bucket."""
        if key is None or self._count_key is None or key == self._count_key:
            return False
        if self._tokens is None or self.capacity is None:
            return False
        return told > self._current_tokens(now) + 1.0

    def _measure_rate(self) -> float | None:
        """Refill = tokens regained + tokens spent, over a window where the bucket was
        never full (a full bucket stops refilling and would hide the rate)."""
        if len(self._samples) < 10:
            return None
        if any(rem >= lim for _, rem, _, lim in self._samples):
            return None
        t0, r0, c0, _ = self._samples[0]
        t1, r1, c1, _ = self._samples[-1]
        span = t1 - t0
        if span < 2.0:
            return None
        rate = ((r1 - r0) + (c1 - c0)) / span
        return rate if rate > 0 else None

    def _block_until_reset(self, now: float, h: RateHeaders | None) -> None:
        # The tenant says when its bucket is refilled: every thread waits for that,
        # rather than retrying blindly into an empty bucket.
        wait = max(h.reset - self._wall(), 0.0) + 0.05 if h is not None else 1.0
        self._blocked_until = max(self._blocked_until, now + min(wait, MAX_SINGLE_WAIT))

    def snapshot(self) -> dict[str, t.Any]:
        with self._cond:
            return {
                "requests": self.requests,
                "throttled": self.throttled,
                "capacity": self.capacity,
                "rate": round(self.rate, 3) if self.rate else None,
                "rate_source": self._rate_source,
                "waited_seconds": round(self.waited_seconds, 3),
            }


@dataclass
class Probe:
    """A new endpoint's first request: the schedulers it took a slot on while its bucket is
    unknown (`SchedulerPool.probe_buckets`)."""

    drawn: list[RateScheduler]


class SchedulerPool:
    """One scheduler per rate-limit bucket, found from the answers themselves.

    Auth0 limits a tenant either with one bucket for the whole Management API (free,
    Enterprise) or with one bucket per endpoint family (Essentials: Read Users 40, Read
    Organizations 5, Organization Members 40, ...), and each answer's `x-ratelimit-limit`
    is the size of the bucket that answered. An endpoint (its path template) not seen yet
    sends one request alone; its answer says the bucket's size, and from then on it shares
    the scheduler of every endpoint whose bucket has that size. A global bucket is so
    mirrored once (never overdrawn by two mirrors), while buckets of different sizes pace
    apart: a wait on Read Organizations does not stall Organization Members. Two distinct
    buckets of one size share a scheduler: slower, never over. `max_requests_per_second`
    caps the sum over all buckets.

    The probe itself waits for a token on every bucket seen so far (`Probe`): when every
    endpoint has reported one limit, that is the tenant's global bucket, which a probe sent
    unpaced would overdraw (free tier: a 429 at nearly every new endpoint). When limits
    differ, the new endpoint may draw from any of them, so it waits for all; once its
    answer names the bucket, the others get their token back.
    """

    def __init__(
        self,
        max_requests_per_second: float | None = None,
        *,
        clock: t.Callable[[], float] = time.monotonic,
        wall: t.Callable[[], float] = time.time,
    ) -> None:
        self._clock = clock
        self._wall = wall
        self._cond = threading.Condition()
        self._by_key: dict[str, RateScheduler] = {}
        self._by_limit: dict[int, RateScheduler] = {}
        self._probing: set[str] = set()
        # Answers that carried no rate headers (an unlimited proxy, a stub): one scheduler.
        self._unlimited = RateScheduler(None, clock=clock, wall=wall)
        self._probes = RateScheduler(None, clock=clock, wall=wall)
        self._cap = RateScheduler(max_requests_per_second, clock=clock, wall=wall)
        self._capped = bool(max_requests_per_second)

    def acquire(self, key: str) -> RateScheduler | Probe:
        """Wait for a slot on `key`'s bucket; return the slot to `release`."""
        with self._cond:
            while True:
                scheduler = self._by_key.get(key)
                if scheduler is not None:
                    slot: RateScheduler | Probe = scheduler
                    break
                if key not in self._probing:
                    self._probing.add(key)
                    slot = Probe(self.probe_buckets())
                    break
                # Another thread is finding out which bucket this endpoint draws from.
                self._cond.wait(0.5)
        if self._capped:
            self._cap.acquire()
            self._cap.release(None, None)
        if isinstance(slot, Probe):
            for scheduler in slot.drawn:
                scheduler.acquire()
        else:
            slot.acquire()
        return slot

    def probe_buckets(self) -> list[RateScheduler]:
        """The schedulers a new endpoint's first request waits on: every bucket seen so far
        (the global one, when all endpoints reported one limit); before any answer, the
        stand-in that lets one request through at a time."""
        with self._cond:
            known = [self._by_limit[limit] for limit in sorted(self._by_limit)]
        return known or [self._probes]

    def release(
        self,
        key: str,
        slot: RateScheduler | Probe,
        headers: t.Mapping[str, str] | None,
        status: int | None,
    ) -> None:
        if not isinstance(slot, Probe):
            slot.release(headers, status, key)
            return
        # The probe's answer names the bucket: from now on `key` paces on its scheduler.
        parsed = RateHeaders.parse(headers) if headers is not None else None
        with self._cond:
            self._probing.discard(key)
            if parsed is not None:
                shared = self._by_limit.get(parsed.limit)
                if shared is None:
                    shared = RateScheduler(None, clock=self._clock, wall=self._wall)
                    self._by_limit[parsed.limit] = shared
                self._by_key[key] = shared
            elif status is not None:
                shared = self._by_key.setdefault(key, self._unlimited)
            else:
                shared = None  # no answer at all: the next request probes again
            self._cond.notify_all()
        for scheduler in slot.drawn:
            if scheduler is shared:
                scheduler.release(headers, status, key)  # drawn where it was counted
            elif parsed is not None and scheduler is not self._probes:
                scheduler.cancel()  # a bucket of another size: not the one it drew from
            else:
                scheduler.release(None, None)  # unknown: keep the token spent
        if shared is not None and shared not in slot.drawn:
            shared.observe(headers, status, key)

    def sustained_rate(self, key: str) -> float | None:
        """Requests/s `key`'s bucket sustains as far as known (the cap included); None
        before its first answer, or when answers carry no rate headers."""
        with self._cond:
            scheduler = self._by_key.get(key)
        known = [scheduler.rate if scheduler is not None else None, self._cap.max_rate]
        rates = [r for r in known if r]
        return min(rates) if rates else None

    @property
    def schedulers(self) -> list[RateScheduler]:
        with self._cond:
            return list({id(s): s for s in self._by_key.values()}.values())

    @property
    def throttled(self) -> int:
        return sum(s.throttled for s in self.schedulers)

    @property
    def requests(self) -> int:
        return sum(s.requests for s in self.schedulers)

    def snapshot(self) -> dict[str, t.Any]:
        with self._cond:
            buckets = {
                str(limit): {
                    "endpoints": sorted(k for k, v in self._by_key.items() if v is s),
                    **s.snapshot(),
                }
                for limit, s in self._by_limit.items()
            }
        return {"requests": self.requests, "throttled": self.throttled, "buckets": buckets}
