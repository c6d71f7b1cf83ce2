"""The fan-out: children emitted per parent, lanes apart, parents held when asked."""

from __future__ import annotations

import threading
import time

import pytest

from tap_auth0.errors import ScopeError
from tap_auth0.fanout import FanOut, Lane


def lane(name, fetch, out, **kw):
    return Lane(name, fetch, lambda recs, ctx: out.extend((name, r) for r in recs), workers=4, **kw)


def test_each_lane_emits_in_parent_order_and_parents_wait_for_their_children():
    out: list = []
    events: list = []

    def slow(ctx):
        time.sleep(0.01 * (ctx["n"] % 3))
        return [ctx["n"]]

    fan = FanOut([lane("a", slow, out)], hold_parents=True, window=8)
    for parent in fan.along(range(20), lambda n: {"n": n}):
        events.append(parent)
        # The parent is handed on only after its child was emitted.
        assert ("a", parent) in out
    assert events == list(range(20))
    assert [r for _, r in out] == list(range(20))


def test_a_slow_lane_does_not_stall_a_fast_one():
    out: list = []
    release = threading.Event()
    fast_done = threading.Event()

    def slow(ctx):
        release.wait(5)
        return [ctx["n"]]

    def fast(ctx):
        if ctx["n"] == 49:
            fast_done.set()
        return [ctx["n"]]

    fan = FanOut(
        [lane("slow", slow, out), lane("fast", fast, out)], hold_parents=False, window=10_000
    )
    parents = list(fan.along(iter(_parents_then_check(fast_done, release)), lambda n: {"n": n}))
    assert parents == list(range(50))
    assert sorted(r for n, r in out if n == "fast") == list(range(50))
    assert sorted(r for n, r in out if n == "slow") == list(range(50))


def _parents_then_check(fast_done, release):
    yield from range(50)
    # Every fast child finished while the slow lane was still blocked.
    assert fast_done.wait(5)
    release.set()


def test_scope_error_disables_the_lane_and_reports_once():
    out: list = []
    refused: list = []

    def fetch(ctx):
        raise ScopeError("no", scopes=("read:x",))

    fan = FanOut(
        [lane("x", fetch, out, on_scope_error=refused.append), lane("y", lambda c: [1], out)],
        hold_parents=True,
        window=4,
    )
    assert list(fan.along(range(10), lambda n: {"n": n})) == list(range(10))
    assert len(refused) == 1
    assert [n for n, _ in out] == ["y"] * 10


def test_other_errors_end_the_run():
    def fetch(ctx):
        raise RuntimeError("boom")

    fan = FanOut([lane("x", fetch, [])], hold_parents=True, window=4)
    with pytest.raises(RuntimeError, match="boom"):
        list(fan.along(range(3), lambda n: {"n": n}))
