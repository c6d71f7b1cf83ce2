"""The `users` listing as concurrent keyset windows over the sort field.

One keyset chain has one request in flight, so at 150 ms latency it lists ~600 users/s
however much more the tenant's rate limit allows. This scan starts with one window over
the run's whole range. Once a window's first answer has told (`include_totals`) how many
users it holds, and while fewer windows run than allowed, the window with the most users
left is split at the middle of its remaining time range; the new upper window asks for its
own count, and the estimates are corrected from it. So the windows follow where the users
are (most tenants' `updated_at` crowd into the last weeks) without a counting pass first.

Each window keeps the keyset guarantees of keyset.py (ties past 1000, users changing mid-run,
and the look-back for index lag, which the caller puts into `low`). Pages are emitted as they
arrive, from whichever window. `pages()` pairs each page with the *floor*: every user sorting
below it has been emitted, because the windows below the first unfinished one are complete.
A bookmark that only ever moves to a floor never passes a user not yet emitted. Above the
floor, `done_above()` names what was already read: finished windows whole, and each unfinished
window from its start up to its position (keyset.py), all up to `settle`, the run's end minus
the look-back, so a change the index had not shown yet is not counted as read. A resumed run
passes them as `skip`: each window it opens starts where the interrupted one had stopped, so
it re-reads at most about a page per window (the boundary users at each position).

Adaptive (the default for the tap): a second window is tried only if one chain makes fewer
requests per second than Auth0's highest documented sustained limit (16/s: a median round
trip over 1/16 s) and fewer than 90% of what the tenant's bucket sustains (from the rate
headers), and each further one only while round trips stay flat enough that it adds at least
half a window's worth of answers per second; where the rate limit or the server binds, round
trips grow instead, and the windows stop there. A single window runs inline, with exactly the
requests of one chain.
"""

from __future__ import annotations

import math
import statistics
import time
import typing as t
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import datetime

from tap_auth0.streams.keyset import (
    AFTER_ID,
    BEFORE,
    WHOLE,
    Cut,
    KeysetWindow,
    Request,
    ScanStats,
    User,
)
from tap_auth0.streams.query import iso_ms

# fetch(q, sort, include_totals) -> (users, total or None); called on worker threads.
Fetch = t.Callable[[str, str, bool], tuple[list[User], int | None]]
# A window is split only while it has at least this many pages left for each half.
MIN_WINDOW_PAGES = 10
# Round trips are averaged per number of requests in flight (recent ones weigh more), and
# compared once a level has this many.
ROUND_TRIP_WEIGHT = 0.3
MIN_ROUND_TRIPS = 3
CHAIN_TRIPS = 7
# Below this round trip one chain already makes more requests per second than Auth0's
# highest documented sustained limit (Enterprise, 16/s): a second window cannot pay there
# (`users_list_windows` N forces windows, e.g. for a private cloud's higher limits).
SPLIT_ROUND_TRIP = 1 / 16
# A second window is tried while one chain makes less than this share of the bucket's rate.
CHAIN_SHARE = 0.9


class Listed(t.NamedTuple):
    """Users a run listed above its floor: every one with the sort field in (low, high), and
    at `high` all of them (`upto` WHOLE), those with a user_id up to `after` (AFTER_ID), or
    none (BEFORE: a window stopped there). `low == high`: only the users at `high`."""

    low: str
    high: str
    upto: int = WHOLE
    after: str = ""

    @property
    def bottom(self) -> Cut:
        return (self.low, WHOLE if self.low < self.high else BEFORE, "")

    @property
    def top(self) -> Cut:
        return (self.high, self.upto, self.after if self.upto == AFTER_ID else "")

    def holds(self, value: str, user_id: str) -> bool:
        return _past(self.bottom, value, user_id) and not _past(self.top, value, user_id)


def _past(cut: Cut, value: str, user_id: str) -> bool:
    """Whether a user sorts after the cut."""
    at, upto, after = cut
    if value != at:
        return value > at
    return upto == BEFORE or (upto == AFTER_ID and user_id > after)


Span = tuple[Cut, Cut]  # the users between two cuts


def merge_spans(spans: t.Iterable[Span]) -> list[Span]:
    """The non-empty spans, sorted, overlapping and touching ones joined."""
    merged: list[Span] = []
    for lo, hi in sorted(s for s in spans if s[0] < s[1]):
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
        else:
            merged.append((lo, hi))
    return merged


def _as_listed(span: Span) -> Listed | None:
    """The `Listed` a span fits in (it may hold a few users fewer, never more)."""
    (low, low_upto, _), (high, upto, after) = span
    if low < high or (low == high and low_upto == BEFORE):
        return Listed(low, high, upto, after)
    return None


def _listed(piece: Listed | t.Sequence[str]) -> Listed:
    """A `Listed`, or (low, high) read whole (a STATE's `listed_above` entry)."""
    return piece if isinstance(piece, Listed) else Listed(piece[0], piece[1])


class _Inline:
    """An executor that runs the call at once (one window: no threads at all)."""

    def submit(self, fn: t.Callable[..., t.Any], *args: t.Any) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args))
        except BaseException as exc:  # handed to the caller by future.result()
            future.set_exception(exc)
        return future

    def shutdown(self, **_: t.Any) -> None:
        pass


def _midpoint(low: str, high: str) -> str | None:
    """The instant halfway between two of Auth0's timestamps, or None if too close."""
    try:
        a = datetime.fromisoformat(low.replace("Z", "+00:00"))
        b = datetime.fromisoformat(high.replace("Z", "+00:00"))
    except ValueError:
        return None
    mid = iso_ms(a + (b - a) / 2)
    return mid if low < mid < high else None


class KeysetScan:
    """Every user matching `base_query` with the sort field in [low, high]."""

    def __init__(
        self,
        fetch: Fetch,
        *,
        sort_field: str,
        page_size: int,
        low: str | None,
        high: str,
        base_query: str | None = None,
        include_totals: bool = True,
        windows: int = 1,
        min_window: int | None = None,
        skip: t.Sequence[Listed | tuple[str, str]] = (),
        settle: str | None = None,
        adaptive: bool = False,
        sustained_rate: t.Callable[[], float | None] = lambda: None,
    ) -> None:
        """`adaptive`: add windows only while they pay (see `_pays`); otherwise split up to
        `windows` whenever a window has enough users left. `sustained_rate`: requests/s
        the tenant's bucket allows, once known."""
        self._fetch = fetch
        self.field = sort_field
        self.page_size = page_size
        self.low = low
        self.high = high
        self.base_query = base_query
        self.include_totals = include_totals
        self.max_windows = max(1, windows)
        self.adaptive = adaptive
        self.sustained_rate = sustained_rate
        # Users a window must have left for a split (each half at least min_window).
        self.min_split = 2 * (min_window or MIN_WINDOW_PAGES * page_size)
        # What an interrupted run had read, within [low, high]: each piece cut to fit.
        start: Cut | None = None if low is None else (low, BEFORE, "")
        end: Cut = (high, WHOLE, "")
        pieces = [_listed(p) for p in skip]
        self.skip: list[Span] = merge_spans(
            (max(p.bottom, start) if start else p.bottom, min(p.top, end))
            for p in pieces
            if p.bottom < p.top
        )
        self.settle = settle if settle is not None else high
        self.stats = ScanStats()
        self.windows: list[KeysetWindow] = []
        self._initial: dict[int, int | None] = {}
        # Requests in flight -> (answers, mean round trip in seconds).
        self._round_trips: dict[int, tuple[int, float]] = {}
        self._chain_trips: list[float] = []  # one chain's first round trips
        # Expected users per window, from the counts (absolute, emitted included).
        self._expected: dict[int, float] = {}
        # A split window's share, corrected when the new window's count arrives.
        self._pending_share: dict[int, tuple[KeysetWindow, float]] = {}

    def __iter__(self) -> t.Iterator[User]:
        for users, _ in self.pages():
            yield from users

    def floor(self) -> str | None:
        """Every user sorting below this has been emitted (None: nothing known yet)."""
        for window in self.windows:
            if not window.done:
                return window.floor
        return self.high

    def done_above(self) -> list[Listed]:
        """What was read above the floor, merged; a resumed run skips it (see `Listed`):
        whole windows and each unfinished window up to its position, all up to `settle`."""
        floor = self.floor()
        if floor is None or all(w.done for w in self.windows):
            return []
        settle: Cut = (self.settle, WHOLE, "")
        spans = list(self.skip)
        for window in self.windows:
            position = window.position()
            if position is not None:
                spans.append((window.start_cut() or ("", BEFORE, ""), min(position, settle)))
        # Below the floor the bookmark speaks; at it, a tie group read part-way is kept.
        at_floor: Cut = (floor, BEFORE, "")
        kept = (_as_listed((max(lo, at_floor), hi)) for lo, hi in merge_spans(spans))
        return [p for p in kept if p is not None and p.top > at_floor]

    def _first_windows(self) -> list[KeysetWindow]:
        """One window per gap between the spans to skip, each from where the span below it
        stopped (inside a tie group: past its last user_id)."""
        windows = []
        cut: Cut | None = None if self.low is None else (self.low, BEFORE, "")
        for lo, hi in [*self.skip, ((self.high, WHOLE, ""), (self.high, WHOLE, ""))]:
            if cut is None or cut < lo:
                low, upto, after = cut if cut is not None else (None, BEFORE, "")
                windows.append(
                    KeysetWindow(
                        sort_field=self.field,
                        page_size=self.page_size,
                        base_query=self.base_query,
                        low=low,
                        low_inclusive=upto == BEFORE,
                        after=after if upto == AFTER_ID else None,
                        # Up to a span that starts inside a value: below that value.
                        high=lo[0],
                        high_inclusive=lo[1] != BEFORE,
                        totals=self.include_totals,
                        stats=self.stats,
                    )
                )
            cut = hi
        return windows

    def pages(self) -> t.Iterator[tuple[list[User], str | None]]:
        """Each answer's users to emit, with the floor once they are emitted."""
        self.windows = self._first_windows()
        self.stats.windows = len(self.windows)
        self._initial = {id(w): None for w in self.windows}
        inline = _Inline()
        pool: ThreadPoolExecutor | _Inline = (
            ThreadPoolExecutor(self.max_windows, thread_name_prefix="users-window")
            if self.max_windows > 1
            else inline
        )
        inflight: dict[Future, tuple[KeysetWindow, Request, float, int]] = {}
        busy: set[int] = set()
        try:
            while True:
                self._split_idle()
                ready = [w for w in self.windows if not w.done and id(w) not in busy]
                # One request alone runs inline: no thread hand-off when nothing overlaps.
                runner = inline if len(ready) == 1 and not inflight else pool
                for window in ready:
                    request = window.request()
                    sent = time.monotonic()
                    future = runner.submit(self._fetch, request.q, request.sort, request.totals)
                    inflight[future] = (window, request, sent, len(inflight) + 1)
                    busy.add(id(window))
                if not inflight:
                    return
                done, _ = wait(list(inflight), return_when=FIRST_COMPLETED)
                # In range order, so the floor moves as early as it can.
                order = {id(w): i for i, w in enumerate(self.windows)}
                for future in sorted(done, key=lambda f: order[id(inflight[f][0])]):
                    window, request, sent, level = inflight.pop(future)
                    busy.discard(id(window))
                    if not request.totals:  # counting a range is a cost of its own
                        self._timed(level, time.monotonic() - sent)
                    page, total = future.result()
                    first_answer = not window.started
                    users = window.take(request, page, total)
                    if first_answer or request.totals:
                        self._counted(window, total if request.totals else None)
                    yield users, self.floor()
        finally:
            for future in inflight:
                future.cancel()
            pool.shutdown(wait=False, cancel_futures=True)

    # -- splitting ----------------------------------------------------------------------
    def _counted(self, window: KeysetWindow, total: int | None) -> None:
        """A window's first answer: its count corrects the estimates."""
        share = self._pending_share.pop(id(window), None)
        if id(window) in self._initial:
            # The run's count: the first windows' counts, once all of them answered.
            self._initial[id(window)] = total
            counts = list(self._initial.values())
            if all(c is not None for c in counts):
                self.stats.total = sum(t.cast(list[int], counts))
        if total is None:
            return
        self._expected[id(window)] = float(total)
        if share is not None:
            lower, guessed = share
            # The lower window keeps what the new one does not hold.
            key = id(lower)
            if key in self._expected:
                self._expected[key] = max(self._expected[key] + guessed - total, 0.0)

    def _left(self, window: KeysetWindow) -> float:
        expected = self._expected.get(id(window))
        if expected is None:
            # No count (include_totals off): more is left while the pages come back full.
            return math.inf if window.started and not window.done else 0.0
        return max(expected - window.emitted, 0.0)

    def _timed(self, level: int, seconds: float) -> None:
        """An answer's round trip (scheduler wait included) with `level` requests out."""
        if level == 1 and len(self._chain_trips) < CHAIN_TRIPS:
            self._chain_trips.append(seconds)
        count, mean = self._round_trips.get(level, (0, 0.0))
        mean = seconds if count == 0 else mean + ROUND_TRIP_WEIGHT * (seconds - mean)
        self._round_trips[level] = (count + 1, mean)

    def _pays(self, windows: int) -> bool:
        """Whether `windows` at once answered faster than one fewer did: at least half the
        ideal gain. Where latency binds, round trips stay flat as windows are added; where
        the rate limit or the server binds, they grow with them and adding stops."""
        if windows <= 1 or not self.adaptive:
            return True
        if windows == 2:
            # Untried: worth it only if one chain is slower than Auth0's highest documented
            # sustained limit, and clearly slower than the tenant's bucket allows.
            # The median of one chain's first answers: one slow answer (a pause on either
            # side) must not start windows where they cannot pay.
            if len(self._chain_trips) < MIN_ROUND_TRIPS:
                return False
            typical = statistics.median(self._chain_trips)
            rate = self.sustained_rate()
            return typical >= SPLIT_ROUND_TRIP and (
                rate is None or 1 / typical < CHAIN_SHARE * rate
            )
        now, before = self._round_trips.get(windows - 1), self._round_trips.get(windows - 2)
        if not now or not before or now[0] < MIN_ROUND_TRIPS:
            return False
        n = windows - 1
        return n / now[1] >= (n - 1) / before[1] * (1 + 0.5 / (n - 1))

    def _split_idle(self) -> None:
        """Split the window with the most users left while a worker would sit idle, and
        while another window in flight pays (see `_pays`)."""
        while (active := sum(not w.done for w in self.windows)) < self.max_windows:
            if not self._pays(active + 1):
                return
            best: KeysetWindow | None = None
            best_left = 0.0
            for window in self.windows:
                if window.done or not window.started or id(window) in self._pending_share:
                    continue
                left = self._left(window)
                if left >= self.min_split and left > best_left:
                    best, best_left = window, left
            if best is None:
                return
            floor = best.floor
            at = _midpoint(floor, best.high) if floor is not None else None
            if at is None:
                # Too narrow to split: count it as too small from now on.
                self._expected[id(best)] = float(best.emitted)
                continue
            upper = best.split(at)
            self.windows.insert(self.windows.index(best) + 1, upper)
            self.stats.windows += 1
            guessed = best_left / 2 if math.isfinite(best_left) else 0.0
            if id(best) in self._expected:
                self._expected[id(best)] -= guessed
            self._pending_share[id(upper)] = (best, guessed)
