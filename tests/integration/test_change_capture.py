"""Change capture against the sandbox over real HTTP: an incremental run costs what changed,
carries deletes as tombstones, and leaves every table equal to the truth.

One module-wide tenant: run 1 is a full pass; run 2 (nothing changed) must cost a handful of
requests; then a mix of Management API changes is made (each logged by the sandbox as Auth0
does) and run 3 must re-read only what they name, and no more.
"""

from __future__ import annotations

import logging
import typing as t
from dataclasses import dataclass

import pytest
from auth0_sandbox import Sandbox, SandboxConfig

from tap_auth0.tap import TapAuth0
from tests.support.changes import PER_USER, TOKEN, left_to_full_pass, make_changes, merge
from tests.support.figures import report
from tests.support.messages import last_state
from tests.support.replay import Replay, truth_keys
from tests.support.tap import run_inprocess


@dataclass
class Runs:
    sb: Sandbox
    config: dict[str, t.Any]
    catalog: dict[str, t.Any]
    replay: Replay
    state: dict[str, t.Any]

    def run(self) -> tuple[list[dict[str, t.Any]], dict[str, t.Any]]:
        self.sb.reset_stats()
        messages = run_inprocess(self.config, state=self.state, catalog=self.catalog)
        stats = self.sb.stats()
        self.replay.apply(messages)
        self.state = last_state(messages)
        return messages, stats


@pytest.fixture(scope="module")
def runs():
    cfg = SandboxConfig(
        users=400,
        seed=11,
        roles=8,
        organizations=30,
        access_token=TOKEN,
        enterprise_features=True,
        logs=50,
    )
    with Sandbox(cfg) as sb:
        config = {"domain": sb.base_url, "tenant": "sandbox", "access_token": TOKEN}
        catalog = TapAuth0.catalog_selecting(config, set(PER_USER), add=True)
        r = Runs(sb, config, catalog, Replay(), {})
        r.run()
        yield r


def messages_of(messages: list[dict], kind: str) -> list[dict]:
    return [m for m in messages if m.get("type") == kind]


def test_a_run_with_nothing_changed_costs_a_handful_of_requests(runs, caplog):
    caplog.set_level(logging.INFO)
    messages, stats = runs.run()
    assert stats["requests"] <= 20, stats["by_endpoint"]
    assert not messages_of(messages, "ACTIVATE_VERSION"), "nothing was read whole"
    streams = {m["stream"] for m in messages_of(messages, "RECORD")}
    assert streams <= {"stats_active_users", "stats_daily", "logs", "users"}, streams
    assert any(
        "Change capture: changes since the last run" in r.getMessage() for r in caplog.records
    )


def test_changes_cost_what_they_name_and_every_table_equals_the_truth(runs, caplog):
    caplog.set_level(logging.INFO)
    done = merge({}, make_changes(runs.sb))
    messages, stats = runs.run()
    changes = done["calls"]
    # At most 20, plus about 3 per change (parents re-read with their children).
    assert stats["requests"] <= 20 + 3 * changes, stats["by_endpoint"]
    assert not [
        m
        for m in messages_of(messages, "ACTIVATE_VERSION")
        if m["stream"] not in {"clients", "client_grants", "connection_clients", "connections"}
    ], "only the tables a change named"
    tt = runs.sb.tenant_truth()
    truth = truth_keys(tt, runs.sb.truth())
    deleted_users = set(done["deleted_users"])
    gone_parents = {
        name: {k[0] for k in runs.replay.tombstones.get(name, set())}
        for name in ("roles", "organizations", "connections")
    }
    for table, want in truth.items():
        got = runs.replay.keys(table)
        rows = runs.replay.tables.get(table, {})
        got = {k for k in got if not left_to_full_pass(table, rows[k], done, gone_parents)}
        assert got == want, (table, sorted(got - want)[:3], sorted(want - got)[:3])
    tomb = runs.replay.tombstones
    assert {(u,) for u in deleted_users} <= tomb.get("users", set())
    assert {(u,) for u in deleted_users} <= tomb.get("user_detail", set())
    assert tomb.get("organizations"), "the deleted organization"
    assert tomb.get("clients") == {(c,) for c in done["deleted_clients"]}
    assert tomb.get("role_members") and tomb.get("organization_members")
    tombstones = [
        m["record"] for m in messages_of(messages, "RECORD") if m["record"].get("_sdc_deleted_at")
    ]
    assert tombstones and {r["tenant"] for r in tombstones} == {"sandbox"}
    report(
        f"change capture: {changes} changes cost {stats['requests']} requests "
        f"({stats['requests'] / changes:.1f} per change); tombstones "
        f"{ {k: len(v) for k, v in sorted(tomb.items())} }"
    )


def test_the_full_pass_after_full_pass_interval_reads_every_table_whole(runs, caplog):
    """The backstop: past `full_pass_interval` every full table is read whole and ends with
    ACTIVATE_VERSION, so what the log never named (a deleted user's memberships, a deleted
    organization's members) leaves too."""
    caplog.set_level(logging.INFO)
    runs.state["bookmarks"]["change_capture"]["last_full_pass"] = "2026-01-01T00:00:00.000Z"
    messages, stats = runs.run()
    activated = {m["stream"] for m in messages_of(messages, "ACTIVATE_VERSION")}
    assert {
        "roles",
        "role_members",
        "organizations",
        "organization_members",
        "clients",
        "connections",
    } <= activated
    assert any(
        "a full pass this run: the last full pass was at" in r.getMessage() for r in caplog.records
    )
    truth = truth_keys(runs.sb.tenant_truth(), runs.sb.truth())
    for table in activated:
        assert runs.replay.keys(table) == truth[table], table


@pytest.mark.parametrize("token", ["client credentials (scopes known)", "static (scopes unknown)"])
def test_without_read_logs_a_run_is_a_full_pass_and_says_so_once(token, caplog):
    """No `read:logs`: every run reads every full table whole, as before change capture,
    with one WARNING naming why (from the token's scopes, or from the log's 403)."""
    caplog.set_level(logging.INFO)
    from auth0_sandbox.config import DEFAULT_SCOPES, STATIC_SCOPES

    cfg = SandboxConfig(
        users=60, seed=4, roles=3, organizations=4, access_token=TOKEN,
        client_id="ID", client_secret="S",
        scopes=" ".join(s for s in DEFAULT_SCOPES if s != "read:logs"),
        static_scopes=" ".join(sorted(s for s in STATIC_SCOPES if s != "read:logs")),
    )  # fmt: skip
    with Sandbox(cfg) as sb:
        creds = {"access_token": TOKEN}
        if token.startswith("client"):
            creds = {"client_id": "ID", "client_secret": "S"}
        config = {"domain": sb.base_url, "tenant": "sandbox", **creds}
        catalog = TapAuth0.catalog_selecting(config, {"logs"})
        for entry in catalog["streams"]:  # every stream but logs (it needs the scope)
            for md in entry["metadata"]:
                if md["breadcrumb"] == []:
                    md["metadata"]["selected"] = entry["tap_stream_id"] != "logs" and md[
                        "metadata"
                    ].get("selected-by-default", False)
        first = run_inprocess(config, catalog=catalog)
        caplog.clear()
        api = requests_session(sb)
        api.delete(f"{sb.base_url}/api/v2/roles/{sb.tenant_truth()['roles'][0]['id']}")
        second = run_inprocess(config, catalog=catalog, state=last_state(first))
    lines = [r.getMessage() for r in caplog.records if "Change capture" in r.getMessage()]
    assert len(lines) == 1 and "a full pass this run" in lines[0], lines
    assert "read:logs" in lines[0] or "cannot read the log" in lines[0], lines[0]
    activated = {m["stream"] for m in messages_of(second, "ACTIVATE_VERSION")}
    assert {"roles", "organizations", "clients", "connections"} <= activated
    assert len([m for m in messages_of(second, "RECORD") if m["stream"] == "roles"]) == 2


def requests_session(sb: Sandbox):
    import requests

    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {TOKEN}"
    return s
