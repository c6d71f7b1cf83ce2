"""`logs` interrupted: the real `tap-auth0` (only `logs` selected, ~20,000 events, a STATE
every 500 events) gets SIGKILL at many points, each time resumed from the last STATE it
emitted; no event may be lost.

Only what a target could have committed counts for a killed attempt: its records up to its
last STATE. After every attempt, every event up to the bookmark it leaves must be in the
union of what was committed so far (nothing below a resume point is missing); after the
final, complete attempt the union is exactly the tenant's events. Events arrive between
attempts (20 % of them late: an old `date`, a new `log_id`). Events re-read after a kill
(emitted after the last STATE of a killed attempt) are allowed, counted and printed.
"""

from __future__ import annotations

import threading
import time
import typing as t
from collections import Counter
from dataclasses import dataclass

import pytest
from auth0_sandbox import Sandbox, SandboxConfig

from tests.support.cli import Attempt, Trigger, run_streamed
from tests.support.figures import report
from tests.support.sandbox_instances import intercept
from tests.support.stub_http import Reply, Seen
from tests.support.tap import catalog_selecting

TOKEN = "T"
EVENTS, SEED = 20_000, 31
STATE_EVERY = 500
HOLD_SEARCH = 1.5  # seconds the sandbox holds the search the kill lands in


def after_records(n: int) -> Trigger:
    return lambda p: p.counts["logs"] >= n


def right_after_state(k: int) -> Trigger:
    """The last line read is the STATE that follows the attempt's (k * 500)-th record."""
    return lambda p: (
        p.counts["logs"] >= k * STATE_EVERY and p.last is not None and p.last["type"] == "STATE"
    )


@dataclass
class Kill:
    name: str
    trigger: Trigger | None  # None: killed while the sandbox holds the oldest-held search
    append_after: int = 0  # events arriving after this attempt


KILLS = [
    Kill("during the first search (no STATE yet)", None),
    Kill("after 1 record", after_records(1)),
    Kill("after 499 records (the first STATE follows the 500th)", after_records(499)),
    Kill("right after the STATE of the 500th record", right_after_state(1)),
    Kill("after 1,777 records", after_records(1777), append_after=300),
    Kill("during the oldest-held search of a resumed run", None),
    Kill("after 2,500 records", after_records(2500)),
    Kill("right after the STATE of the 1,500th record", right_after_state(3)),
    Kill("after 3,001 records", after_records(3001), append_after=200),
    Kill("after 501 records", after_records(501)),
    Kill("after 4,444 records", after_records(4444)),
    Kill("after 5,000 records", after_records(5000)),
]


@pytest.fixture
def sb() -> t.Iterator[Sandbox]:
    with Sandbox(SandboxConfig(users=300, seed=SEED, access_token=TOKEN, logs=EVENTS)) as sandbox:
        yield sandbox


def ids(msgs: list[dict[str, t.Any]]) -> list[str]:
    return [m["record"]["log_id"] for m in msgs if m["type"] == "RECORD"]


def records_between_states(attempt: Attempt) -> int:
    most = run = 0
    for m in attempt.msgs:
        if m["type"] == "RECORD":
            run += 1
            most = max(most, run)
        elif m["type"] == "STATE":
            run = 0
    return most


def test_sigkill_at_twelve_points_then_resume_loses_nothing(sb: Sandbox) -> None:
    started = time.monotonic()
    cfg = {"domain": sb.base_url, "tenant": "sandbox", "access_token": TOKEN}
    catalog = catalog_selecting(cfg, {"logs"})

    # A search (no `from`) the sandbox holds open while the kill lands, when armed.
    search_held = threading.Event()
    armed = {"on": False}

    def hold_search(req: Seen) -> Reply | None:
        if armed["on"] and req.path.startswith("/api/v2/logs") and "from=" not in req.path:
            armed["on"] = False
            search_held.set()
            time.sleep(HOLD_SEARCH)
        return None

    undo = intercept(sb, hold_search)
    state: dict | None = None
    committed: set[str] = set()
    emitted: Counter[str] = Counter()
    rows: list[str] = []
    try:
        for n, kill in enumerate([*KILLS, None], 1):
            if kill is not None and kill.trigger is None:
                search_held.clear()
                armed["on"] = True
            attempt = run_streamed(
                cfg,
                state=state,
                catalog=catalog,
                trigger=kill.trigger if kill else None,
                external=search_held if kill and kill.trigger is None else None,
            )
            got = ids(attempt.msgs)
            emitted.update(got)
            if kill is None:
                assert attempt.returncode == 0 and not attempt.fired, attempt.stderr[-2000:]
                kept = got
            else:
                assert attempt.fired and attempt.returncode == -9, (
                    f"{kill.name}: not killed (exit {attempt.returncode})"
                )
                if kill.trigger is None:
                    assert got == [], f"{kill.name}: records before the search answered"
                kept = ids(attempt.committed())
            committed.update(kept)
            assert records_between_states(attempt) <= STATE_EVERY, "a STATE every 500 events"
            if attempt.last_state is not None:
                state = attempt.last_state
            # Nothing up to the point the next attempt resumes from is missing.
            truth = [e["log_id"] for e in sb.logs_truth()]
            mark = (state or {}).get("bookmarks", {}).get("logs", {}).get("replication_key_value")
            below = [i for i in truth if mark is not None and i <= mark]
            missing = [i for i in below if i not in committed]
            assert not missing, f"after attempt {n}: {len(missing)} events below the bookmark lost"
            rows.append(
                f"logs SIGKILL {n:2d} {kill.name if kill else 'final run, to completion'}:"
                f" {len(got)} emitted, {len(kept)} committed, bookmark at event"
                f" {len(below)} of {len(truth)}"
            )
            if kill is not None and kill.append_after:
                sb.append_logs(kill.append_after, late_fraction=0.2, seed=n)
    finally:
        undo()

    truth = [e["log_id"] for e in sb.logs_truth()]
    reread = sum(c - 1 for c in emitted.values())
    for line in rows:
        report(line)
    report(
        f"logs SIGKILL: {len(KILLS)} kills + final run; union {len(committed)} vs truth"
        f" {len(truth)} (missing {len(set(truth) - committed)}, unexpected"
        f" {len(committed - set(truth))}); {sum(emitted.values())} records emitted,"
        f" {reread} duplicates across resumes (re-read after a kill);"
        f" {time.monotonic() - started:.1f}s"
    )
    assert len(truth) == EVENTS + 500
    assert committed == set(truth)
    assert set(emitted) == set(truth)
