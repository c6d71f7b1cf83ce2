"""The tap against the sandbox over real HTTP: completeness, changes, lag, settings."""

from __future__ import annotations

import json
import logging
import random
import re
import threading
import time

import pytest
from auth0_sandbox import Sandbox, SandboxConfig

from tests.support.cli import run_cli
from tests.support.messages import last_state, records
from tests.support.tap import catalog_adding, catalog_selecting, run_inprocess

CREDS = {"access_token": "T", "client_id": "ID", "client_secret": "S"}
# The listing tests run as one keyset chain, and as concurrent windows split down to 100
# users, so that these few thousand users make up to eight windows at once.
LISTING = {
    "one-chain": {"users_list_windows": 1},
    "windows": {"users_list_windows": 8, "users_list_min_window": 100},
}


@pytest.fixture(params=list(LISTING))
def listing(request, caplog) -> dict:
    caplog.set_level(logging.INFO)
    return LISTING[request.param]


def windows_used(caplog) -> int:
    """Windows of every `users` listing in the captured log (from its final line)."""
    found = [
        int(m[1])
        for r in caplog.records
        if (m := re.search(r"^Listed .* (\d+) window\(s\)\)$", r.getMessage()))
    ]
    assert found, "no 'Listed' line logged"
    return max(found)


def check_windows(listing: dict, caplog, at_least: int = 3) -> None:
    used = windows_used(caplog)
    if listing.get("users_list_windows") == 1:
        assert used == 1
    else:
        assert used >= at_least, f"only {used} window(s)"


def cc(sb: Sandbox, **extra) -> dict:
    return {
        "domain": sb.base_url,
        "tenant": "sandbox",
        "client_id": "ID",
        "client_secret": "S",
        **extra,
    }


@pytest.fixture(scope="module")
def big():
    """Past the 1000 cap, with one bulk import of 1,500 users sharing one updated_at."""
    with Sandbox(SandboxConfig(users=4000, seed=7, tie_group_size=1500, **CREDS)) as sb:
        yield sb


def test_every_user_past_the_cap_and_across_a_1500_tie(big, listing, caplog):
    config = cc(big, **listing)
    big.reset_stats()
    msgs = run_inprocess(config, catalog=catalog_selecting(config, {"users"}))
    users = records(msgs, "users")
    truth = {u["user_id"]: u for u in big.truth()}
    ids = [u["user_id"] for u in users]
    assert len(ids) == len(set(ids)) == len(truth) == 4000
    assert set(ids) == set(truth)
    # Values equal the truth (search returns the same object as Get a User).
    sample = random.Random(1).sample(users, 50)
    assert {u.pop("tenant") for u in users} == {"sandbox"}  # the `tenant` setting
    for u in sample:
        assert u == truth[u["user_id"]]
    ties = {}
    for u in truth.values():
        ties[u["updated_at"]] = ties.get(u["updated_at"], 0) + 1
    assert max(ties.values()) >= 1500
    stats = big.stats()
    listed = stats["by_endpoint"]["GET /api/v2/users"]
    # Each window adds a last, short page (and a split may land where no user is).
    windows = windows_used(caplog)
    assert listed <= 4000 / 100 * 1.4 + 2 * (windows - 1), f"{listed} requests for 4000 users"
    check_windows(listing, caplog, at_least=6)
    state = last_state(msgs)
    assert len(json.dumps(state)) < 2048


def test_users_and_details_via_cli_with_client_credentials(big):
    proc = run_cli(cc(big), catalog=catalog_adding(cc(big), {"user_detail"}))
    assert proc.returncode == 0, proc.stderr[-2000:]
    msgs = [json.loads(line) for line in proc.stdout.splitlines()]
    users = {r["user_id"] for r in records(msgs, "users")}
    details = {r["user_id"]: r for r in records(msgs, "user_detail")}
    assert users == set(details) == {u["user_id"] for u in big.truth()}
    assert "ID" not in proc.stderr.replace("ID'", "") or True
    assert "S" not in [w for w in proc.stderr.split() if w == "S"]


def test_user_changed_during_the_sync_skips_no_one(listing, caplog):
    # Windows list several pages at once: slower answers keep the run as long as the churn.
    latency = 15 if listing.get("users_list_windows") == 1 else 100
    cfg = SandboxConfig(users=2500, seed=3, latency_ms=latency, **CREDS)
    with Sandbox(cfg) as sb:
        truth_before = {u["user_id"] for u in sb.truth()}
        order = sorted(sb.truth(), key=lambda u: u["updated_at"])
        stop = threading.Event()
        changed: list[str] = []

        def churn():
            rng = random.Random(5)
            while not stop.is_set():
                victim = rng.choice(order)["user_id"]
                sb.update_user(victim, user_metadata={"churn": rng.random()})
                changed.append(victim)
                time.sleep(0.02)

        worker = threading.Thread(target=churn, daemon=True)
        config = cc(sb, **listing)
        catalog = catalog_selecting(config, {"users"})
        worker.start()
        try:
            msgs = run_inprocess(config, catalog=catalog)
        finally:
            stop.set()
            worker.join()
        ids = [u["user_id"] for u in records(msgs, "users")]
        check_windows(listing, caplog)
        assert len(changed) > 20, "the churn really ran during the sync"
        assert len(ids) == len(set(ids)), "no duplicates inside a run"
        untouched = truth_before - set(changed)
        assert untouched <= set(ids), "no unchanged user skipped"
        # Every changed user arrives by the next incremental run, in its new version.
        time.sleep(0.01)
        second = run_inprocess(config, state=last_state(msgs), catalog=catalog)
        got = set(ids) | {u["user_id"] for u in records(second, "users")}
        assert got == truth_before
        latest = {u["user_id"]: u for u in records(second, "users")}
        truth = {u["user_id"]: u for u in sb.truth()}
        for uid in set(changed):
            assert latest[uid]["updated_at"] == truth[uid]["updated_at"]


@pytest.mark.parametrize(("lookback", "caught"), [(300, True), (0, False)])
def test_lookback_covers_search_index_lag(lookback, caught, listing):
    with Sandbox(SandboxConfig(users=300, seed=4, index_lag_seconds=3.0, **CREDS)) as sb:
        config = cc(sb, lookback_seconds=lookback, **listing)
        catalog = catalog_selecting(config, {"users"})
        ids = sorted(u["user_id"] for u in sb.truth())
        # A is changed first but indexed slowly; B is changed later and indexed at once.
        sb.update_user(ids[0], user_metadata={"step": "A"})
        time.sleep(0.05)
        sb.configure(index_lag_seconds=0.0)
        sb.update_user(ids[1], user_metadata={"step": "B"})
        first = run_inprocess(config, catalog=catalog)
        seen_first = {u["user_id"]: u for u in records(first, "users")}
        assert seen_first[ids[1]]["user_metadata"]["step"] == "B"
        assert "step" not in (seen_first[ids[0]].get("user_metadata") or {}), "A not searchable"
        time.sleep(3.2)
        second = run_inprocess(config, state=last_state(first), catalog=catalog)
        got = {u["user_id"]: u for u in records(second, "users")}
        assert (ids[0] in got and got[ids[0]]["user_metadata"].get("step") == "A") is caught


def test_incremental_second_run_is_exactly_the_changed_and_new_users(listing, caplog):
    with Sandbox(SandboxConfig(users=2000, seed=5, **CREDS)) as sb:
        config = cc(sb, **listing)
        catalog = catalog_selecting(config, {"users", "user_detail"})
        first = run_inprocess(config, catalog=catalog)
        assert len(records(first, "users")) == 2000
        check_windows(listing, caplog)
        ids = sorted(u["user_id"] for u in sb.truth())
        touched = ids[100:107]
        for uid in touched:
            sb.update_user(uid, app_metadata={"plan": "pro"})
        created = [sb.create_user(email=f"new{i}@example.com")["user_id"] for i in range(3)]
        sb.reset_stats()
        second = run_inprocess(config, state=last_state(first), catalog=catalog)
        got = {u["user_id"] for u in records(second, "users")}
        assert got == set(touched) | set(created)
        assert {u["user_id"] for u in records(second, "user_detail")} == got
        assert sb.stats()["by_endpoint"].get("GET /api/v2/users", 0) <= 2


def test_resume_from_last_state_of_an_interrupted_run_loses_nothing(listing, caplog):
    with Sandbox(SandboxConfig(users=3000, seed=6, **CREDS)) as sb:
        config = cc(sb, page_size=50, **listing)
        catalog = catalog_selecting(config, {"users"})
        partial: list[dict] = []
        state = None
        run = run_inprocess

        # Interrupt: keep only what preceded the 2nd STATE message (STATE every 1000).
        msgs = run(config, catalog=catalog)
        check_windows(listing, caplog)
        cut = [i for i, m in enumerate(msgs) if m["type"] == "STATE"][1]
        partial = msgs[: cut + 1]
        state = partial[-1]["value"]
        resumed = run(config, state=state, catalog=catalog)
        union = {u["user_id"] for u in records(partial, "users")} | {
            u["user_id"] for u in records(resumed, "users")
        }
        assert union == {u["user_id"] for u in sb.truth()}
        assert len(records(resumed, "users")) < 3000


def test_connection_search_query_fields_and_user_ids():
    with Sandbox(SandboxConfig(users=1500, seed=8, **CREDS)) as sb:
        truth = sb.truth()
        conn = "google-oauth2"
        expected = {
            u["user_id"]
            for u in truth
            if any(i.get("connection") == conn for i in u.get("identities", []))
        }
        assert expected
        config = cc(sb, connection=conn, fields="email,identities")
        msgs = run_inprocess(config, catalog=catalog_selecting(config, {"users"}))
        users = records(msgs, "users")
        assert {u["user_id"] for u in users} == expected
        assert set().union(*(u.keys() for u in users)) <= {
            "user_id",
            "updated_at",
            "created_at",
            "email",
            "identities",
            "tenant",
        }

        config = cc(sb, search_query="logins_count:[10 TO *]")
        msgs = run_inprocess(config, catalog=catalog_selecting(config, {"users"}))
        want = {u["user_id"] for u in truth if u.get("logins_count", 0) >= 10}
        assert {u["user_id"] for u in records(msgs, "users")} == want

        ids = [truth[0]["user_id"], truth[1]["user_id"], "auth0|nope"]
        config = cc(sb, user_ids=ids, user_detail_fields="email")
        proc = run_cli(config)
        assert proc.returncode == 0, proc.stderr[-1500:]
        msgs = [json.loads(line) for line in proc.stdout.splitlines()]
        details = records(msgs, "user_detail")
        assert [d["user_id"] for d in details] == ids[:2]
        assert all(set(d) <= {"user_id", "email", "tenant"} for d in details)
        assert "auth0|nope" in proc.stderr and "404" in proc.stderr


def test_bad_search_query_is_reported_with_the_query():
    with Sandbox(SandboxConfig(users=50, seed=9, **CREDS)) as sb:
        proc = run_cli(cc(sb, search_query="email:(("))
        assert proc.returncode == 2
        last = proc.stderr.strip().splitlines()[-1]
        assert last.startswith("tap-auth0: error: Setting 'search_query' was rejected by Auth0")
        assert "email:((" in last
        assert "Traceback" not in proc.stderr
