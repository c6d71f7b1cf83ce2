"""The keyset scan: every user once, past the 1000 cap, across huge ties, under changes.

Every test runs twice: one chain, and concurrent windows split small enough that a few
thousand users make many windows (scan.py)."""

from __future__ import annotations

import itertools

import pytest

from tap_auth0.streams.users.keyset import KeysetWindow, ScanStats
from tap_auth0.streams.users.scan import KeysetScan
from tests.support.fake_search import FakeSearch, make_users

END = "2030-01-01T00:00:00.000Z"
# One chain; eight windows, split while a window has two pages left.
MODES = {"one-chain": {"windows": 1}, "8-windows": {"windows": 8, "min_window": 1}}


@pytest.fixture(params=list(MODES), autouse=True)
def mode(request) -> dict:
    return MODES[request.param]


def make_scan(fetch, mode: dict, low=None, page_size=100, **kw) -> KeysetScan:
    options = dict(mode)
    if "min_window" in options:
        options["min_window"] = page_size
    return KeysetScan(
        fetch, sort_field="updated_at", page_size=page_size, low=low, high=END, **options, **kw
    )


@pytest.fixture
def scan(mode):
    def run(search: FakeSearch, low=None, page_size=100, **kw) -> list[dict]:
        return list(make_scan(search.fetch, mode, low=low, page_size=page_size, **kw))

    return run


def test_extracts_far_past_the_1000_cap_without_loss_or_duplicates(scan, mode):
    search = FakeSearch(make_users(3500))
    got = scan(search)
    ids = [u["user_id"] for u in got]
    assert len(ids) == 3500
    assert len(set(ids)) == 3500
    if mode["windows"] == 1:
        # One chain emits in sort order.
        assert [u["updated_at"] for u in got] == sorted(u["updated_at"] for u in got)
    # Never pages: every request is page 0 of a narrower window (plus one short last
    # page per window, and a few splits that land where no user is).
    assert len(search.requests) <= 3500 // 99 + 3 + 2 * mode["windows"]
    assert all("page" not in q for q, _ in search.requests)


def test_tie_group_larger_than_1000_sharing_one_updated_at(mode):
    search = FakeSearch(make_users(2600, tie=1500))
    s = make_scan(search.fetch, mode)
    ids = [u["user_id"] for u in s]
    assert len(ids) == 2600 == len(set(ids))
    assert s.stats.tie_groups and s.stats.tie_groups[0][1] == 1500
    assert any(sort == "user_id:1" for _, sort in search.requests)


@pytest.mark.parametrize("page_size", [1, 7, 100])
def test_small_pages_and_ties_straddling_pages(scan, page_size):
    users = make_users(300)
    for u in users[100:130]:  # 30 users with one timestamp, straddling page ends
        u["updated_at"] = "2024-03-03T03:03:03.333Z"
    search = FakeSearch(users, page_size=page_size)
    ids = [u["user_id"] for u in scan(search, page_size=page_size)]
    assert sorted(ids) == sorted(u["user_id"] for u in users)
    assert len(ids) == len(set(ids))


def test_user_changed_mid_sync_does_not_make_others_skipped(scan):
    users = make_users(1200)
    search = FakeSearch(users)
    order = sorted(users, key=lambda u: u["updated_at"])
    counter = itertools.count()

    def mutate(s: FakeSearch) -> None:
        # After each request, move one not-yet-seen user and one seen user past the end
        # of the window (as a change during the run does).
        n = next(counter)
        for victim in (order[min(50 + n * 100, 1199)], order[n * 3]):
            s.users[victim["user_id"]]["updated_at"] = "2031-01-01T00:00:00.000Z"

    search.after_request = mutate
    got = [u["user_id"] for u in scan(search)]
    assert len(got) == len(set(got)), "no duplicates inside a run"
    moved = {uid for uid, u in search.users.items() if u["updated_at"] > END}
    unchanged = {u["user_id"] for u in users} - moved
    assert unchanged <= set(got), "every user that did not change is extracted"


def test_incremental_window_and_base_query_are_in_every_request(scan):
    search = FakeSearch(make_users(500))
    low = "2024-06-01T00:00:00.000Z"
    got = scan(search, low=low, base_query='identities.connection:"x"')
    assert all(u["updated_at"] >= low for u in got)
    expected = [u for u in make_users(500) if u["updated_at"] >= low]
    assert len(got) == len(expected)
    assert all(q.startswith('(identities.connection:"x") AND ') for q, _ in search.requests)


def test_totals_asked_once(mode):
    search = FakeSearch(make_users(450))
    calls = []
    orig = search.fetch

    def spy(q, sort, totals):
        calls.append(totals)
        return orig(q, sort, totals)

    s = KeysetScan(
        spy, sort_field="updated_at", page_size=100, low=None, high=END, windows=mode["windows"]
    )
    list(s)
    # 450 users are too few to split at the default window size: one chain either way.
    assert calls[0] is True and not any(calls[1:])
    assert s.stats.total == 450


def test_a_split_while_a_page_is_in_flight_hands_the_rest_to_the_new_window():
    stats = ScanStats()
    window = KeysetWindow(
        sort_field="updated_at",
        page_size=3,
        base_query=None,
        low="2024-01-01T00:00:00.000Z",
        high=END,
        stats=stats,
    )
    request = window.request()
    upper = window.split("2024-06-01T00:00:00.000Z")
    page = [
        {"user_id": "a", "updated_at": "2024-02-01T00:00:00.000Z"},
        {"user_id": "b", "updated_at": "2024-06-01T00:00:00.000Z"},
        {"user_id": "c", "updated_at": "2024-07-01T00:00:00.000Z"},
    ]
    assert [u["user_id"] for u in window.take(request, page, None)] == ["a", "b"]
    assert window.done, "the page went past the new bound, so it held all of the window"
    assert (
        upper.request().q == 'updated_at:{"2024-06-01T00:00:00.000Z" TO "2030-01-01T00:00:00.000Z"]'
    )
