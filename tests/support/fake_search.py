"""A tiny in-memory stand-in for Auth0 search, for unit tests of the keyset scan.

It understands exactly the query shapes the tap builds (ANDed ranges on one field and
user_id) and orders ties by a hash, like Auth0's undocumented internal order, so a scan
that relied on ties coming back in user_id order would fail here.
"""

from __future__ import annotations

import hashlib
import re
import typing as t
from functools import cache

RANGE = re.compile(
    r'(?P<field>[a-z_.]+):(?P<open>[\[{])(?P<lo>\*|"(?:[^"\\]|\\.)*") TO '
    r'(?P<hi>\*|"(?:[^"\\]|\\.)*")(?P<close>[\]}])'
)


def _unquote(token: str) -> str | None:
    if token == "*":
        return None
    return token[1:-1].replace('\\"', '"').replace("\\\\", "\\")


@cache
def _tie_order(user_id: str) -> str:
    return hashlib.sha1(user_id.encode()).hexdigest()


class FakeSearch:
    def __init__(self, users: list[dict[str, t.Any]], page_size: int = 100) -> None:
        self.users = {u["user_id"]: dict(u) for u in users}
        self.page_size = page_size
        self.requests: list[tuple[str, str]] = []
        self.after_request: t.Callable[[FakeSearch], None] | None = None

    @staticmethod
    def _ranges(q: str) -> list[tuple[str, str | None, str | None, bool, bool]]:
        """The query's ranges, parsed once per request: a fast fake keeps the scan's round
        trips (which decide its windows) far below the split threshold on a slow CPU."""
        return [
            (m["field"], _unquote(m["lo"]), _unquote(m["hi"]), m["open"] == "{", m["close"] == "}")
            for m in RANGE.finditer(q)
        ]

    @staticmethod
    def _matches(user: dict[str, t.Any], ranges: list) -> bool:
        for field, lo, hi, lo_open, hi_open in ranges:
            value = user.get(field)
            if value is None:
                return False
            if lo is not None and (value < lo or (lo_open and value == lo)):
                return False
            if hi is not None and (value > hi or (hi_open and value == hi)):
                return False
        return True

    def fetch(self, q: str, sort: str, include_totals: bool):
        self.requests.append((q, sort))
        field = sort.split(":")[0]
        ranges = self._ranges(q)
        hits = [u for u in self.users.values() if self._matches(u, ranges)]
        hits.sort(key=lambda u: (u[field], _tie_order(u["user_id"])))
        page = [dict(u) for u in hits[: self.page_size]]
        if self.after_request:
            self.after_request(self)
        return page, (len(hits) if include_totals else None)


def make_users(n: int, *, tie: int = 0, tie_ts: str = "2024-06-01T12:00:00.000Z"):
    """`n` users with spread-out timestamps; the first `tie` share `tie_ts` (a bulk import)."""
    users = []
    for i in range(n):
        ts = (
            tie_ts
            if i < tie
            else f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:00:"
            f"{i % 60:02d}.{i % 1000:03d}Z"
        )
        users.append({"user_id": f"auth0|{i:06d}", "updated_at": ts, "created_at": ts})
    return users
