"""One keyset window over Auth0 user search: every user in it, past the 1000 cap, once.

Page numbers over a result set that changes during the sync skip users (one user moving
out of the window shifts everyone after it back by one). So every request asks for page 0
of "sort field at or after the last value seen", and skips the few users already emitted
at that boundary value. When a whole page shares one value (a bulk import writes
thousands of users with one `updated_at`), that value is scanned by `user_id` instead,
keyset again. The upper bound is fixed when the run starts (a split only lowers it, and the
new window takes what is above): a user changed during the run moves past the run's end and
is left for the next run, so no other user is skipped or repeated.

A window is a state machine (`request` then `take`), so the scan (scan.py) can drive one
window inline or several at once on worker threads, with the same logic. Its `position()`
is a cut in (sort value, user_id) order below which it has emitted every user: a STATE keeps
it, and a resumed window starts there (`after`: inside a tie group, past that user_id).
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, field

from tap_auth0.streams.users.query import combine, range_clause

User = dict[str, t.Any]

# A cut between users in (sort value, user_id) order: (v, BEFORE, "") lies before every user
# whose sort field is v, (v, AFTER_ID, id) after those of them with a user_id up to id,
# (v, WHOLE, "") after all of them. Tuples compare in that order.
Cut = tuple[str, int, str]
BEFORE, AFTER_ID, WHOLE = 0, 1, 2


@dataclass
class ScanStats:
    requests: int = 0
    tie_requests: int = 0
    emitted: int = 0
    total: int | None = None
    skipped_boundary: int = 0
    windows: int = 1
    tie_groups: list[tuple[str, int]] = field(default_factory=list)


@dataclass(frozen=True)
class Request:
    """One search request, and the window's upper bound when it was sent."""

    q: str
    sort: str
    totals: bool
    high: str


class KeysetWindow:
    """The users whose sort field is in (low, high] (or [low, high], [low, high)), ascending."""

    def __init__(
        self,
        *,
        sort_field: str,
        page_size: int,
        base_query: str | None,
        low: str | None,
        high: str,
        low_inclusive: bool = True,
        high_inclusive: bool = True,
        after: str | None = None,
        totals: bool = False,
        stats: ScanStats,
    ) -> None:
        """`after`: start inside the tie group at `low`, past this user_id (a resumed window
        that was reading a tie group by user_id). `high_inclusive` False: a window that ends
        where a resumed one starts inside a tie group."""
        self.field = sort_field
        self.page_size = page_size
        self.base_query = base_query
        self.low, self.low_inclusive, self.high = low, low_inclusive, high
        self.high_inclusive = high_inclusive
        self.start = low  # the window's own lower bound, as it began
        self._start_cut: Cut | None = (
            None if low is None else (low, AFTER_ID, after) if after else self._low_cut()
        )
        self.want_totals = totals
        self.stats = stats
        self.boundary_value: str | None = None
        self.boundary_ids: set[str] = set()
        # Tie mode: the value being read by user_id, the last id read, ids already emitted.
        self.tie_value: str | None = low if after else None
        self.tie_after: str | None = after
        self.tie_skip: set[str] = set()
        self.tie_count = 0
        self.started = False
        self.counted = False  # asked for its count (a window starting in a tie group asks
        # once past it)
        self.done = False
        self.emitted = 0
        self.total: int | None = None  # users in the window when its first answer came

    @property
    def floor(self) -> str | None:
        """Every user of this window sorting below this value has been emitted."""
        return self.tie_value if self.tie_value is not None else self.low

    def _low_cut(self) -> Cut:
        return (t.cast(str, self.low), BEFORE if self.low_inclusive else WHOLE, "")

    def start_cut(self) -> Cut | None:
        """Where the window began (None: at the beginning of the sort order)."""
        return self._start_cut

    def position(self) -> Cut | None:
        """Every user of the window before this cut has been emitted (the boundary users at
        the last value seen are left out: a resume reads them again, fewer than a page)."""
        if self.done:
            return (self.high, WHOLE if self.high_inclusive else BEFORE, "")
        if self.tie_value is not None:
            if self.tie_after:
                return (self.tie_value, AFTER_ID, self.tie_after)
            return (self.tie_value, BEFORE, "")
        return None if self.low is None else self._low_cut()

    def request(self) -> Request:
        if self.tie_value is not None:
            clauses = [
                self.base_query,
                range_clause(self.field, self.tie_value, high=self.tie_value),
                range_clause("user_id", self.tie_after, low_inclusive=False)
                if self.tie_after
                else None,
            ]
            return Request(combine(*clauses), "user_id:1", False, self.high)
        window = range_clause(
            self.field,
            self.low,
            low_inclusive=self.low_inclusive,
            high=self.high,
            high_inclusive=self.high_inclusive,
        )
        totals = self.want_totals and not self.counted
        return Request(combine(self.base_query, window), f"{self.field}:1", totals, self.high)

    def take(self, request: Request, page: list[User], total: int | None) -> list[User]:
        """The answer to `request`: the users to emit now; moves the window on."""
        self.stats.requests += 1
        if request.totals:
            self.total, self.counted = total, True
        self.started = True
        if request.sort == "user_id:1":
            self.stats.tie_requests += 1
            return self._take_tie(page)
        full = len(page) >= self.page_size
        truncated = False
        if request.high != self.high:
            # Split while in flight: what sorts above the new bound is the new window's.
            kept = [u for u in page if u[self.field] <= self.high]
            truncated = len(kept) < len(page)
            page = kept
        if not truncated and full and page[0].get(self.field) == page[-1].get(self.field):
            value = page[-1][self.field]
            self.tie_skip = self.boundary_ids if value == self.boundary_value else set()
            self.tie_value, self.tie_after, self.tie_count = value, None, 0
            self.boundary_value, self.boundary_ids = None, set()
            return []
        out = self._unseen(page)
        if truncated or not full:
            # A page extending past the bound holds everything up to it.
            self.done = True
            return out
        last = page[-1][self.field]
        # A full page ending on the previous boundary value took the tie branch above,
        # so this boundary's ids are all on this page.
        self.boundary_value = last
        self.boundary_ids = {u["user_id"] for u in page if u.get(self.field) == last}
        self.low, self.low_inclusive = last, True
        return out

    def _emit(self, page: list[User], out: list[User]) -> list[User]:
        """Count `out`, what is left of `page` once the users already emitted are skipped."""
        self.stats.skipped_boundary += len(page) - len(out)
        self.emitted += len(out)
        self.stats.emitted += len(out)
        return out

    def _unseen(self, page: list[User]) -> list[User]:
        boundary = self.boundary_value
        if boundary is None:
            return self._emit(page, page)
        ids = self.boundary_ids
        out = [u for u in page if u.get(self.field) != boundary or u["user_id"] not in ids]
        return self._emit(page, out)

    def _take_tie(self, page: list[User]) -> list[User]:
        """All users whose sort field equals the tie value, in user_id order."""
        self.tie_count += len(page)
        skip = self.tie_skip
        out = self._emit(page, [u for u in page if u["user_id"] not in skip] if skip else page)
        if len(page) < self.page_size:
            value = t.cast(str, self.tie_value)
            self.stats.tie_groups.append((value, self.tie_count))
            self.low, self.low_inclusive = value, False
            self.tie_value, self.tie_after, self.tie_skip = None, None, set()
            # A group at the window's upper bound ends it (a resumed window can start there).
            self.done = value >= self.high
        else:
            self.tie_after = page[-1]["user_id"]
        return out

    def split(self, at: str) -> KeysetWindow:
        """Keep (…, at] and return a window for (at, high]; `at` lies above the floor."""
        upper = KeysetWindow(
            sort_field=self.field,
            page_size=self.page_size,
            base_query=self.base_query,
            low=at,
            high=self.high,
            low_inclusive=False,
            high_inclusive=self.high_inclusive,
            totals=self.want_totals,
            stats=self.stats,
        )
        self.high, self.high_inclusive = at, True
        return upper
