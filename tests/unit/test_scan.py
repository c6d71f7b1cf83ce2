"""Concurrent keyset windows: split where the users are, read at once, floor always safe."""

from __future__ import annotations

import threading
import time

import pytest

from tap_auth0.errors import Auth0APIError
from tap_auth0.streams.scan import KeysetScan
from tests.support.fake_search import FakeSearch, make_users

END = "2030-01-01T00:00:00.000Z"


def skewed_users(n: int) -> list[dict]:
    """Most users changed in the last days of a long history, as on a real tenant."""
    users = make_users(n)
    for i, u in enumerate(users):
        if i % 5:  # 80% in the last week of December 2029
            ts = f"2029-12-{24 + i % 7:02d}T{i % 24:02d}:{i % 60:02d}:{i % 59:02d}.{i % 997:03d}Z"
            u["updated_at"] = u["created_at"] = ts
    return users


class SlowSearch(FakeSearch):
    """Answers after a delay, counting the requests in flight at once."""

    def __init__(self, users: list[dict], delay: float = 0.01) -> None:
        super().__init__(users)
        self.delay = delay
        self.lock = threading.Lock()
        self.inflight = 0
        self.peak = 0

    def fetch(self, q, sort, include_totals):
        with self.lock:
            self.inflight += 1
            self.peak = max(self.peak, self.inflight)
        try:
            time.sleep(self.delay)
            with self.lock:
                return super().fetch(q, sort, include_totals)
        finally:
            with self.lock:
                self.inflight -= 1


def scan(fetch, **kw) -> KeysetScan:
    return KeysetScan(fetch, sort_field="updated_at", page_size=100, low=None, high=END, **kw)


def test_windows_follow_the_users_and_run_at_once():
    users = skewed_users(6000)
    search = SlowSearch(users)
    s = scan(search.fetch, windows=6, min_window=300)
    ids = [u["user_id"] for u in s]
    assert sorted(ids) == sorted(u["user_id"] for u in users)
    assert s.stats.windows >= 6
    assert search.peak == 6, "six windows in flight at once"
    # Splits land where the users are: few requests are wasted on empty windows.
    assert s.stats.requests <= 6000 / 100 + 2 * s.stats.windows


def test_floor_never_passes_a_user_not_yet_emitted():
    users = skewed_users(4000)
    for u in users[:700]:  # and a bulk import
        u["updated_at"] = "2029-12-28T00:00:00.000Z"
    search = SlowSearch(users, delay=0.002)
    s = scan(search.fetch, windows=8, min_window=100)
    emitted: set[str] = set()
    floors = []
    for page, floor in s.pages():
        emitted.update(u["user_id"] for u in page)
        if floor is None:
            continue
        floors.append(floor)
        below = {u["user_id"] for u in users if u["updated_at"] < floor}
        assert below <= emitted, f"floor {floor} passed {len(below - emitted)} users"
    assert floors == sorted(floors), "the floor only moves forward"
    assert floors[-1] == END
    assert len(emitted) == 4000 and s.stats.windows > 4


def test_small_tenant_sends_exactly_the_requests_of_one_chain():
    one, many = FakeSearch(make_users(450, tie=120)), FakeSearch(make_users(450, tie=120))
    list(scan(one.fetch, windows=1))
    s = scan(many.fetch, windows=8)
    list(s)
    assert many.requests == one.requests and s.stats.windows == 1


@pytest.mark.parametrize("totals", [True, False])
def test_without_totals_windows_split_while_pages_come_back_full(totals):
    users = skewed_users(3000)
    search = SlowSearch(users, delay=0.002)
    s = scan(search.fetch, windows=4, min_window=100, include_totals=totals)
    ids = [u["user_id"] for u in s]
    assert sorted(ids) == sorted(u["user_id"] for u in users)
    assert s.stats.windows >= 4


def test_an_error_in_one_window_ends_the_scan_with_it():
    search = SlowSearch(skewed_users(3000), delay=0.002)
    calls = 0

    def failing(q, sort, totals):
        nonlocal calls
        calls += 1
        if calls == 12:
            raise Auth0APIError("GET /api/v2/users: 500 boom")
        return search.fetch(q, sort, totals)

    with pytest.raises(Auth0APIError, match="boom"):
        list(scan(failing, windows=4, min_window=100))
