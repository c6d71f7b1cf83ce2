"""Concurrent keyset windows: split where the users are, read at once, floor always safe."""

from __future__ import annotations

import threading
import time

import pytest

from tap_auth0.errors import Auth0APIError
from tap_auth0.streams.keyset import AFTER_ID
from tap_auth0.streams.scan import KeysetScan, Listed
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

    def __init__(self, users: list[dict], delay: float = 0.01, rate: float = 0.0) -> None:
        super().__init__(users)
        self.delay = delay
        self.rate = rate  # requests/s the "tenant" answers at most (0: no limit)
        self.lock = threading.Lock()
        self.inflight = 0
        self.peak = 0
        self.next_slot = 0.0

    def fetch(self, q, sort, include_totals):
        with self.lock:
            self.inflight += 1
            self.peak = max(self.peak, self.inflight)
            slot = max(time.monotonic(), self.next_slot)
            self.next_slot = slot + (1 / self.rate if self.rate else 0.0)
        try:
            time.sleep(max(slot - time.monotonic(), 0.0) + self.delay)
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


def test_ranges_read_by_an_interrupted_run_are_skipped_and_the_rest_is_read():
    users = skewed_users(3000)
    values = sorted(u["updated_at"] for u in users)
    skip = [(values[200], values[900]), (values[1500], values[2600])]
    search = FakeSearch(users)
    s = scan(search.fetch, windows=4, min_window=100, skip=skip)
    got = sorted(u["user_id"] for u in s)
    inside = {u["user_id"] for u in users if any(a < u["updated_at"] <= b for a, b in skip)}
    assert got == sorted(u["user_id"] for u in users if u["user_id"] not in inside)
    assert s.stats.total == len(got), "the count is the gaps' counts"
    assert s.done_above() == [], "a complete scan leaves nothing above its floor"


def resume(search: FakeSearch, floor: str, done: list[Listed]) -> KeysetScan:
    """A scan resuming from a STATE: the bookmark `floor` and what was read above it."""
    return KeysetScan(
        search.fetch,
        sort_field="updated_at",
        page_size=100,
        low=floor,
        high=END,
        windows=8,
        min_window=100,
        skip=done,
    )


def test_resuming_from_any_page_loses_nothing_and_rereads_a_page_per_window_at_most():
    """Each window an interrupted run was reading continues from its position: a resumed
    scan reads again only the boundary users at each (and at the floor), never a window
    from its start."""
    users = skewed_users(2500)
    for u in users[:500]:  # a bulk import, read by user_id
        u["updated_at"] = "2029-12-27T00:00:00.000Z"
    first = scan(SlowSearch(users, delay=0.002).fetch, windows=8, min_window=100)
    emitted: set[str] = set()
    # What a STATE written after each page would hold, and the windows unfinished then.
    snapshots = []
    for page, floor in first.pages():
        emitted.update(u["user_id"] for u in page)
        if floor is not None and floor < END:
            unfinished = sum(not w.done for w in first.windows)
            snapshots.append((set(emitted), floor, first.done_above(), unfinished))
    assert any(s[2] for s in snapshots), "windows above the floor had read something"
    in_tie = [s for s in snapshots if any(p.upto == AFTER_ID for p in s[2])]
    assert in_tie, "a window was stopped inside the bulk import"
    picked = snapshots[:: max(1, len(snapshots) // 5)] + in_tie[:: max(1, len(in_tie) // 2)]
    for before, floor, done, unfinished in picked:
        resumed = [u["user_id"] for u in resume(FakeSearch(users), floor, done)]
        assert before | set(resumed) == {u["user_id"] for u in users}
        # What the first scan had read is not read again, but for the boundary users.
        inside = {
            u["user_id"] for u in users if any(p.holds(u["updated_at"], u["user_id"]) for p in done)
        }
        assert inside <= before
        assert not set(resumed) & inside
        assert len(set(resumed) & before) <= unfinished * 100, f"{unfinished} windows"
        assert len(resumed) == len(set(resumed))


def test_a_window_stopped_inside_a_tie_group_continues_past_its_last_user_id():
    users = make_users(1000, tie=450)
    tie = users[0]["updated_at"]
    ids = sorted(u["user_id"] for u in users if u["updated_at"] == tie)
    below = max(u["updated_at"] for u in users if u["updated_at"] < tie)
    # A window over (below, …] read the group up to its 200th user_id; the floor is lower.
    done = [Listed(below, tie, AFTER_ID, ids[199])]
    search = FakeSearch(users)
    s = KeysetScan(
        search.fetch, sort_field="updated_at", page_size=100, low=None, high=END, skip=done
    )
    got = [u["user_id"] for u in s]
    read = {u["user_id"] for u in users if done[0].holds(u["updated_at"], u["user_id"])}
    assert read == set(ids[:200])
    assert sorted(got) == sorted(u["user_id"] for u in users if u["user_id"] not in read)
    assert 'user_id:{"' + ids[199] + '" TO *]' in " ".join(q for q, _ in search.requests)


def test_a_floor_inside_a_tie_group_resumes_past_its_last_user_id():
    """One chain stopped inside a bulk import: the bookmark is the group's value, and the
    position past its last user_id is kept too, so the group is not read again."""
    users = make_users(1000, tie=450)
    first = scan(FakeSearch(users).fetch)
    emitted: set[str] = set()
    for page, _ in first.pages():
        emitted.update(u["user_id"] for u in page)
        done = first.done_above()
        if done and done[0].upto == AFTER_ID and len(emitted) > 300:
            break
    floor = first.floor()
    assert floor == users[0]["updated_at"] and done[0].low == done[0].high == floor
    search = FakeSearch(users)
    resumed = {u["user_id"] for u in resume(search, floor, done)}
    assert emitted | resumed == {u["user_id"] for u in users}
    # Only the boundary users the page before the group had emitted are read again.
    assert len(emitted & resumed) < 100
    assert search.requests[0] == (
        f'(updated_at:["{floor}" TO "{floor}"]) AND (user_id:{{"{done[0].after}" TO *])',
        "user_id:1",
    )


def test_an_old_state_with_ranges_only_still_resumes():
    """A STATE written before window positions were kept: (low, high] pairs read whole."""
    users = skewed_users(2000)
    values = sorted(u["updated_at"] for u in users)
    skip = [(values[300], values[900])]
    got = {u["user_id"] for u in scan(FakeSearch(users).fetch, windows=4, skip=skip)}
    assert got == {u["user_id"] for u in users if not values[300] < u["updated_at"] <= values[900]}


@pytest.mark.parametrize(
    ("delay", "rate", "fewest", "most"),
    [
        (0.0, 0.0, 1, 1),  # a fast answer: one chain is as fast as the limit allows
        (0.08, 0.0, 4, 8),  # latency binds: windows towards the cap
        (0.08, 15.0, 2, 3),  # the limit binds at ~1.2 windows' worth: they stop there
    ],
    ids=["fast", "latency-bound", "limit-bound"],
)
def test_adaptive_windows_are_added_only_while_they_pay(delay, rate, fewest, most):
    users = skewed_users(5000)
    search = SlowSearch(users, delay=delay, rate=rate)
    s = scan(search.fetch, windows=8, min_window=100, adaptive=True)
    assert len({u["user_id"] for u in s}) == 5000
    assert fewest <= search.peak <= most, f"{search.peak} requests in flight at most"


@pytest.mark.parametrize(
    ("rate", "split"), [(2.0, False), (16.0, True)], ids=["free", "enterprise"]
)
def test_a_second_window_only_if_one_chain_is_slower_than_the_bucket_allows(rate, split):
    """At 80 ms one chain makes ~12 requests/s: all a free tenant (2/s) allows, well under
    an Enterprise one (16/s)."""
    users = skewed_users(3000)
    search = SlowSearch(users, delay=0.08)
    s = scan(search.fetch, windows=8, min_window=100, adaptive=True, sustained_rate=lambda: rate)
    assert len({u["user_id"] for u in s}) == 3000
    assert (search.peak > 1) is split
