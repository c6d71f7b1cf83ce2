"""Keyset scan over Auth0 user search: every user, past the 1000-result cap, exactly once.

Page numbers over a result set that changes during the sync skip users (one user moving
out of the window shifts everyone after it back by one). So every request asks for page 0
of "sort field at or after the last value seen", and skips the few users already emitted
at that boundary value. When a whole page shares one value (a bulk import writes
thousands of users with one `updated_at`), that value is scanned by `user_id` instead,
keyset again. The upper bound is fixed at the run's start: a user changed during the run
moves past it and is left for the next run, so no other user is skipped or repeated.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, field

from tap_auth0.streams.query import combine, range_clause

# fetch(q, sort, include_totals) -> (users, total or None)
Fetch = t.Callable[[str, str, bool], tuple[list[dict[str, t.Any]], int | None]]


@dataclass
class ScanStats:
    requests: int = 0
    tie_requests: int = 0
    emitted: int = 0
    total: int | None = None
    skipped_boundary: int = 0
    tie_groups: list[tuple[str, int]] = field(default_factory=list)


class KeysetScan:
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
    ) -> None:
        self._fetch = fetch
        self.field = sort_field
        self.page_size = page_size
        self.low = low
        self.high = high
        self.base_query = base_query
        self.include_totals = include_totals
        self.stats = ScanStats()

    def _query(self, low: str | None, low_inclusive: bool) -> str:
        window = range_clause(
            self.field, low, low_inclusive=low_inclusive, high=self.high, high_inclusive=True
        )
        return combine(self.base_query, window)

    def __iter__(self) -> t.Iterator[dict[str, t.Any]]:
        low, low_inclusive = self.low, True
        boundary_value: str | None = None
        boundary_ids: set[str] = set()
        first = True
        while True:
            want_totals = first and self.include_totals
            page, total = self._fetch(
                self._query(low, low_inclusive), f"{self.field}:1", want_totals
            )
            self.stats.requests += 1
            if first:
                self.stats.total = total
                first = False
            full = len(page) >= self.page_size
            if full and page[0].get(self.field) == page[-1].get(self.field):
                value = page[-1][self.field]
                skip = boundary_ids if value == boundary_value else set()
                yield from self._tie_scan(value, skip)
                low, low_inclusive = value, False
                boundary_value, boundary_ids = None, set()
                continue
            for user in page:
                uid = user["user_id"]
                if user.get(self.field) == boundary_value and uid in boundary_ids:
                    self.stats.skipped_boundary += 1
                    continue
                self.stats.emitted += 1
                yield user
            if not full:
                return
            last = page[-1][self.field]
            # A full page ending on the previous boundary value took the tie branch above,
            # so this boundary's ids are all on this page.
            ids_at_last = {u["user_id"] for u in page if u.get(self.field) == last}
            boundary_value, boundary_ids = last, ids_at_last
            low, low_inclusive = last, True

    def _tie_scan(self, value: str, skip: set[str]) -> t.Iterator[dict[str, t.Any]]:
        """All users whose sort field equals `value`, in user_id order, keyset on user_id."""
        after: str | None = None
        count = 0
        while True:
            clauses = [
                self.base_query,
                range_clause(self.field, value, high=value),
                range_clause("user_id", after, low_inclusive=False) if after else None,
            ]
            page, _ = self._fetch(combine(*clauses), "user_id:1", False)
            self.stats.requests += 1
            self.stats.tie_requests += 1
            for user in page:
                count += 1
                if user["user_id"] in skip:
                    self.stats.skipped_boundary += 1
                    continue
                self.stats.emitted += 1
                yield user
            if len(page) < self.page_size:
                self.stats.tie_groups.append((value, count))
                return
            after = page[-1]["user_id"]
