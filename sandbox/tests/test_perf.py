"""Measured (printed, not asserted) search cost at benchmark scale.

The claim: page 0 / per_page 100 of ``q=<range on sort field> AND <simple clauses>`` on 200k
users takes well under ~20 ms of server CPU. Run with ``-s`` to see the numbers.
"""

from __future__ import annotations

import json
import statistics
import time
from collections import Counter

import pytest
from auth0_sandbox.data import generate_users, make_connections
from auth0_sandbox.lucene import parse
from auth0_sandbox.store import UserStore

USERS = 200_000


@pytest.fixture(scope="module")
def big_store() -> UserStore:
    t0 = time.perf_counter()
    store = UserStore(
        generate_users(USERS, 1, tie_group_size=2000), 1, make_connections(1), lambda: 0.0
    )
    print(f"\n[perf] generated + indexed {USERS} users in {time.perf_counter() - t0:.1f} s")
    return store


def _measure(
    store: UserStore, q: str, sort: str, totals: bool = False, runs: int = 20
) -> tuple[float, int, int | None]:
    node = parse(q)
    times = []
    for _ in range(runs):
        t0 = time.process_time()
        res = store.search(node, sort, False, 0, 100, totals)
        json.dumps(res.docs, separators=(",", ":"))
        times.append((time.process_time() - t0) * 1000)
    return statistics.median(times), len(res.docs), res.total


def test_perf_range_on_sort_field(big_store: UserStore) -> None:
    stamps = sorted(d["updated_at"] for d in big_store.primary.values())
    mid = stamps[len(stamps) // 2]
    tie = Counter(stamps).most_common(1)[0][0]  # the 2000-user bulk-import group
    cases = [
        (
            f'(identities.connection:"Username-Password-Authentication") AND '
            f'(updated_at:{{"{mid}" TO *])',
            "updated_at",
            False,
        ),
        (
            f'updated_at:["{mid}" TO *] AND email_verified:true AND NOT blocked:true',
            "updated_at",
            False,
        ),
        (f'updated_at:{{"{mid}" TO *]', "updated_at", True),
        (f'(updated_at:["{tie}" TO "{tie}"]) AND (user_id:{{"auth0|6" TO *])', "user_id", False),
    ]
    for q, sort, totals in cases:
        ms, n, total = _measure(big_store, q, sort, totals)
        print(
            f"[perf] {ms:6.2f} ms CPU (search + JSON, median of 20)  n={n} total={total} "
            f"sort={sort}  q={q[:70]}"
        )
        assert n == 100
