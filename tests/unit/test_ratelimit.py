"""The shared scheduler: learns the bucket from headers, paces, stops on 429 until reset."""

from __future__ import annotations

import threading
import time

import pytest

from tap_auth0.ratelimit import RateScheduler


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0

    def clock(self) -> float:
        return self.now

    def wall(self) -> float:
        return 1_700_000_000.0 + self.now


def headers(limit, remaining, reset):
    return {
        "x-ratelimit-limit": str(limit),
        "x-ratelimit-remaining": str(remaining),
        "x-ratelimit-reset": str(int(reset)),
    }


def test_first_request_alone_until_budget_known():
    ft = FakeTime()
    s = RateScheduler(clock=ft.clock, wall=ft.wall)
    assert s._wait_needed(ft.now) == 0
    s.acquire()
    assert s._wait_needed(ft.now) > 0, "a second request waits for the first answer"
    s.release(headers(50, 49, ft.wall() + 1), 200)
    assert s._wait_needed(ft.now) == 0
    assert s.capacity == 50 and s.rate == 16.0, "documented Enterprise rate as the prior"


def test_spends_burst_then_paces_at_rate():
    ft = FakeTime()
    s = RateScheduler(clock=ft.clock, wall=ft.wall)
    s.acquire()
    s.release(headers(50, 2, ft.wall() + 3), 200)
    s.acquire()
    wait = s._wait_needed(ft.now)
    assert wait > 0, "bucket nearly empty: keep one token in reserve"
    assert wait < 0.2, "about one token's refill at 16/s"
    ft.now += 1.0  # 16 tokens refill
    assert s._wait_needed(ft.now) == 0


def test_measures_an_undocumented_rate():
    ft = FakeTime()
    s = RateScheduler(clock=ft.clock, wall=ft.wall)
    remaining = 5
    for i in range(40):
        s.acquire()
        ft.now += 0.25  # we send 4/s; the bucket refills 5/s → remaining rises 0.25/step
        remaining_now = min(19, int(remaining + (i + 1) * 0.25))
        s.release(headers(20, remaining_now, ft.wall() + 2), 200)
    assert s.rate is not None and 4.5 < s.rate < 5.5
    assert s.snapshot()["rate_source"] == "measured"


def test_429_blocks_every_thread_until_reset():
    s = RateScheduler()
    s.acquire()
    s.release(headers(50, 0, time.time() + 1.0), 429)
    assert s.throttled == 1
    done: list[float] = []
    t0 = time.time()
    reset_at = int(t0 + 1.0)

    def worker():
        s.acquire()
        done.append(time.time())

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(5)
    assert len(done) == 3
    assert min(done) >= reset_at - 0.01


class Bucket:
    """A server-side bucket with no refill (the clock stands still): takes a token per
    request in the order the server sees them."""

    def __init__(self, size: int) -> None:
        self.size, self.left, self.overdrawn = size, size, 0
        self.lock = threading.Lock()

    def take(self) -> int:
        if self.left == 0:
            self.overdrawn += 1
            return 0
        self.left -= 1
        return self.left


SENT = list(range(9))
SWAPPED = [1, 0, 3, 2, 5, 4, 7, 6, 8]


@pytest.mark.parametrize(
    ("served", "answered"),
    [
        (SENT, SENT),
        (SENT, SENT[::-1]),
        (SENT, [8, 0, 7, 1, 6, 2, 5, 3, 4]),
        (SWAPPED, SENT),
        (SWAPPED, SWAPPED[::-1]),
        (SWAPPED, [0, 1, 8, 2, 7, 3, 6, 4, 5]),
    ],
    ids=[
        "in-order",
        "newest-first",
        "interleaved",
        "served-swapped",
        "swapped-newest-first",
        "swapped-interleaved",
    ],
)
def test_answers_out_of_order_never_overdraw_a_small_bucket(served, answered):
    """Nine requests drain a 10-token bucket; however the server orders them and however
    their answers come back, the scheduler then knows the bucket is empty, and knows no
    less. (An older answer's higher count raising ours gave 429s in the benchmark.)"""
    ft = FakeTime()
    s = RateScheduler(clock=ft.clock, wall=ft.wall)
    bucket = Bucket(10)
    s.acquire()
    s.release(headers(10, bucket.take(), ft.wall() + 6), 200)
    acquired = [threading.Event() for _ in range(9)]
    go_serve = [threading.Event() for _ in range(9)]
    go_answer = [threading.Event() for _ in range(9)]
    remaining: dict[int, int] = {}

    def request(i: int) -> None:
        s.acquire()  # request i is the i-th sent
        acquired[i].set()
        go_serve[i].wait(5)
        remaining[i] = bucket.take()
        go_answer[i].wait(5)
        s.release(headers(10, remaining[i], ft.wall() + 6), 200)

    threads = [threading.Thread(target=request, args=(i,)) for i in range(9)]
    for i, th in enumerate(threads):
        th.start()
        assert acquired[i].wait(5)
    for i in served:
        go_serve[i].set()
        while i not in remaining:
            time.sleep(0.001)
    for i in answered:
        go_answer[i].set()
        threads[i].join(5)
    assert bucket.left == 0 and bucket.overdrawn == 0
    assert s._wait_needed(ft.now) > 0, "an empty bucket: the next request must wait"
    assert s._tokens is not None and -0.5 < s._tokens < 0.5, "and not a lower guess either"
    ft.now += 1 / (100 / 60) / 0.97 + 0.01  # one token's refill at the documented 100/min
    assert s._wait_needed(ft.now) == 0, "one token later it may send"


def test_max_requests_per_second_cap():
    ft = FakeTime()
    s = RateScheduler(4.0, clock=ft.clock, wall=ft.wall)
    s.acquire()
    s.release(headers(1_000_000, 1_000_000, ft.wall()), 200)
    assert abs(s._wait_needed(ft.now) - 0.25) < 1e-6
    ft.now += 0.25
    assert s._wait_needed(ft.now) == 0


# -- the pool: one scheduler per bucket, found from the answers ------------------------------
from tap_auth0.ratelimit import SchedulerPool  # noqa: E402


def test_pool_endpoints_of_one_global_bucket_share_one_scheduler():
    ft = FakeTime()
    pool = SchedulerPool(clock=ft.clock, wall=ft.wall)
    for key, remaining in (("GET /users", 49), ("GET /roles", 48), ("GET /organizations", 47)):
        slot = pool.acquire(key)
        pool.release(key, slot, headers(50, remaining, ft.wall() + 1), 200)
    assert len(pool.schedulers) == 1
    (shared,) = pool.schedulers
    assert shared.requests == 3 and shared.capacity == 50


def test_pool_buckets_of_other_sizes_pace_apart():
    """Essentials: Read Organizations (5) throttled must not stop Organization Members (40)."""
    ft = FakeTime()
    pool = SchedulerPool(clock=ft.clock, wall=ft.wall)
    slot = pool.acquire("GET /organizations")
    pool.release("GET /organizations", slot, headers(5, 4, ft.wall() + 1), 200)
    slot = pool.acquire("GET /organizations/{id}/members")
    pool.release("GET /organizations/{id}/members", slot, headers(40, 39, ft.wall() + 1), 200)
    slot = pool.acquire("GET /organizations")
    pool.release("GET /organizations", slot, headers(5, 0, ft.wall() + 30), 429)
    members_wait = pool._by_key["GET /organizations/{id}/members"]._wait_needed(ft.now)
    orgs_wait = pool._by_key["GET /organizations"]._wait_needed(ft.now)
    assert members_wait == 0
    assert orgs_wait > 1, "the throttled bucket waits for its reset"
    assert pool.throttled == 1
    assert len(pool.schedulers) == 2


def test_pool_cap_applies_to_the_sum_of_buckets():
    pool = SchedulerPool(max_requests_per_second=50)
    started = time.monotonic()
    for i in range(11):
        key = f"GET /k{i % 3}"
        slot = pool.acquire(key)
        pool.release(key, slot, headers(1000, 999, time.time() + 1), 200)
    assert time.monotonic() - started >= 0.19  # 10 intervals of 20 ms, whatever the bucket


def test_pool_new_endpoint_sends_one_probe_then_its_bucket_paces_everyone():
    """No worker may spend a bucket through a stand-in scheduler while the first answer is
    on its way (that overdraws a small bucket: 16 requests into Essentials' 10)."""
    pool = SchedulerPool()
    key = "GET /roles/{id}/users"
    probe = pool.acquire(key)
    got: list = []
    threads = [threading.Thread(target=lambda: got.append(pool.acquire(key))) for _ in range(6)]
    for th in threads:
        th.start()
    time.sleep(0.3)
    assert got == [], "nobody else goes before the probe's answer"
    pool.release(key, probe, headers(10, 9, time.time() + 5), 200)
    for th in threads:
        th.join(5)
    assert len(got) == 6 and all(s is got[0] for s in got) and got[0] is not probe
    assert got[0].capacity == 10
    # The probe plus the six, all counted on the shared scheduler.
    assert got[0].requests == 7


@pytest.mark.parametrize(("limit", "cap", "rate"), [(50, None, 16.0), (2, None, 2.0), (50, 5, 5.0)])
def test_pool_tells_a_bucket_sustained_rate_once_it_has_answered(limit, cap, rate):
    """What the users listing asks before it tries a second window."""
    pool = SchedulerPool(max_requests_per_second=cap)
    assert pool.sustained_rate("GET /users") == cap
    slot = pool.acquire("GET /users")
    pool.release("GET /users", slot, headers(limit, limit - 1, time.time() + 1), 200)
    assert pool.sustained_rate("GET /users") == pytest.approx(rate)
    slot = pool.acquire("GET /unlimited")
    pool.release("GET /unlimited", slot, {}, 200)
    assert pool.sustained_rate("GET /unlimited") == cap


def _acquire_in_thread(pool: SchedulerPool, key: str) -> tuple[threading.Thread, list]:
    got: list = []
    thread = threading.Thread(target=lambda: got.append(pool.acquire(key)), daemon=True)
    thread.start()
    return thread, got


def test_pool_probe_waits_for_the_global_bucket_every_endpoint_reported():
    """Free tier: every answer so far said limit 2, and the bucket is spent. The first
    request to a new endpoint draws from that same global bucket, so it waits for a token
    instead of going out unpaced into a 429 (8 of 116 requests on a default run)."""
    ft = FakeTime()
    pool = SchedulerPool(clock=ft.clock, wall=ft.wall)
    for key, remaining in (("GET /users", 1), ("GET /users/{id}", 0)):
        slot = pool.acquire(key)
        pool.release(key, slot, headers(2, remaining, ft.wall() + 1), 200)
    thread, got = _acquire_in_thread(pool, "GET /roles")
    time.sleep(0.3)
    assert got == [], "the probe waits: the global bucket has no token"
    ft.now += 1.0  # two tokens refill at 2/s
    thread.join(5)
    assert len(got) == 1
    pool.release("GET /roles", got[0], headers(2, 1, ft.wall() + 1), 200)
    (shared,) = pool.schedulers
    assert pool._by_key["GET /roles"] is shared
    assert shared.requests == 3, "the probe is counted once, on the bucket it drew from"


def test_pool_probe_waits_on_every_bucket_when_limits_differ_then_gives_back_the_others():
    """Essentials: Read Users (40) has tokens, the 5-token bucket is spent. A new endpoint
    could draw from either, so its probe waits for both; once the answer says 40, the
    5-token bucket gets its token back."""
    ft = FakeTime()
    pool = SchedulerPool(clock=ft.clock, wall=ft.wall)
    for key, limit, remaining in (("GET /users", 40, 39), ("GET /organizations", 5, 0)):
        slot = pool.acquire(key)
        pool.release(key, slot, headers(limit, remaining, ft.wall() + 1), 200)
    users, orgs = pool._by_key["GET /users"], pool._by_key["GET /organizations"]
    thread, got = _acquire_in_thread(pool, "GET /organizations/{id}/members")
    time.sleep(0.3)
    assert got == [], "one of the buckets it may draw from is spent"
    ft.now += 1.5  # one token refills at 50/min
    thread.join(5)
    assert len(got) == 1
    orgs_tokens = orgs._current_tokens(ft.now)
    pool.release("GET /organizations/{id}/members", got[0], headers(40, 38, ft.wall() + 1), 200)
    assert pool._by_key["GET /organizations/{id}/members"] is users
    assert orgs._current_tokens(ft.now) == pytest.approx(orgs_tokens + 1.0)
    assert (users.requests, orgs.requests) == (2, 1), "counted only where it drew"


def test_pool_first_probe_goes_alone_before_any_bucket_is_known():
    ft = FakeTime()
    pool = SchedulerPool(clock=ft.clock, wall=ft.wall)
    slot = pool.acquire("GET /users")
    pool.release("GET /users", slot, headers(2, 1, ft.wall() + 1), 200)
    assert pool.requests == 1 and pool.schedulers[0].capacity == 2


def test_pool_fuller_bucket_of_the_same_size_does_not_raise_the_shared_count():
    """Essentials: Read Organizations and clients both hold 5 and share a scheduler. A full
    clients bucket must not make the spent organizations bucket look full (that drew a 429
    on a default run), nor speed up the pace or feed the refill measurement."""
    ft = FakeTime()
    pool = SchedulerPool(clock=ft.clock, wall=ft.wall)
    for remaining in (4, 3, 2, 1, 0):
        slot = pool.acquire("GET /organizations")
        pool.release("GET /organizations", slot, headers(5, remaining, ft.wall() + 6), 200)
        ft.now += 0.01
    shared = pool._by_key["GET /organizations"]
    rate = shared.rate
    ft.now += 1.3  # a token at 50/min
    slot = pool.acquire("GET /clients")
    pool.release("GET /clients", slot, headers(5, 4, ft.wall() + 1), 200)
    assert pool._by_key["GET /clients"] is shared
    assert shared._current_tokens(ft.now) < 1.0, "the count keeps the emptier bucket's"
    assert shared._wait_needed(ft.now) > 0, "the next organizations request waits"
    assert shared.rate == rate
