"""A tiny in-memory stand-in for Auth0 search, for unit tests of the keyset scan.

It understands exactly the query shapes the tap builds (ANDed ranges on one field and
user_id) and orders ties by a hash, like Auth0's undocumented internal order, so a scan
that relied on ties coming back in user_id order would fail here.
"""

from __future__ import annotations

import hashlib
import re
import typing as t

RANGE = re.compile(
    r'(?P<field>[a-z_.]+):(?P<open>[\[{])(?P<lo>\*|"(?:[^"\\]|\\.)*") TO '
    r'(?P<hi>\*|"(?:[^"\\]|\\.)*")(?P<close>[\]}])'
)


def _unquote(token: str) -> str | None:
    if token == "*":
        return None
    return token[1:-1].replace('\\"', '"').replace("\\\\", "\\")


def _tie_order(user_id: str) -> str:
    return hashlib.sha1(user_id.encode()).hexdigest()


class FakeSearch:
    def __init__(self, users: list[dict[str, t.Any]], page_size: int = 100) -> None:
        self.users = {u["user_id"]: dict(u) for u in users}
        self.page_size = page_size
        self.requests: list[tuple[str, str]] = []
        self.after_request: t.Callable[[FakeSearch], None] | None = None

    def _matches(self, user: dict[str, t.Any], q: str) -> bool:
        for m in RANGE.finditer(q):
            value = user.get(m["field"])
            lo, hi = _unquote(m["lo"]), _unquote(m["hi"])
            if value is None:
                return False
            if lo is not None and (value < lo or (m["open"] == "{" and value == lo)):
                return False
            if hi is not None and (value > hi or (m["close"] == "}" and value == hi)):
                return False
        return True

    def fetch(self, q: str, sort: str, include_totals: bool):
        self.requests.append((q, sort))
        field = sort.split(":")[0]
        hits = [u for u in self.users.values() if self._matches(u, q)]
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
