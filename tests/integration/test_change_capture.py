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
from urllib.parse import quote

import pytest
import requests
from auth0_sandbox import Sandbox, SandboxConfig

from tap_auth0.tap import TapAuth0
from tests.support.figures import report
from tests.support.messages import last_state
from tests.support.replay import Replay, truth_keys
from tests.support.tap import run_inprocess

TOKEN = "T"
PER_USER = {
    "user_detail",
    "user_permissions",
    "user_authentication_methods",
    "user_sessions",
    "user_refresh_tokens",
}
# Rows the log cannot name, left to the next full pass (README, "What only the full pass
# catches"); the marts leave them out (tests/e2e/test_change_capture_pipeline.py).
BY_USER = ("role_members", "organization_members", "organization_member_roles", *PER_USER)
BY_PARENT = {
    "role_members": ("roles", "role_id"),
    "role_permissions": ("roles", "role_id"),
    "organization_members": ("organizations", "organization_id"),
    "organization_member_roles": ("organizations", "organization_id"),
    "organization_connections": ("organizations", "organization_id"),
    "organization_invitations": ("organizations", "organization_id"),
    "connection_clients": ("connections", "connection_id"),
}


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


class Api:
    """The Management API, as an admin calls it."""

    def __init__(self, sb: Sandbox) -> None:
        self.base = f"{sb.base_url}/api/v2"
        self.s = requests.Session()
        self.s.headers["Authorization"] = f"Bearer {TOKEN}"
        self.calls = 0

    def __call__(self, method: str, path: str, body: t.Any = None) -> t.Any:
        self.calls += 1
        r = self.s.request(method, self.base + path, json=body, timeout=30)
        assert r.status_code < 300, (method, path, r.status_code, r.text[:300])
        return r.json() if r.content else None


def q(value: str) -> str:
    return quote(value, safe="")


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
        config = {"domain": sb.base_url, "access_token": TOKEN}
        catalog = TapAuth0.catalog_selecting(config, PER_USER, add=True)
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


def make_changes(sb: Sandbox) -> dict[str, t.Any]:
    """A mix of every kind of change the log names; returns what was done."""
    api = Api(sb)
    tt = sb.tenant_truth()
    users = sorted(u["user_id"] for u in sb.truth())
    roles = [r["id"] for r in tt["roles"]]
    orgs = [o["id"] for o in tt["organizations"]]
    role_a, role_b = roles[0], roles[1]
    org_a, org_b = orgs[0], orgs[1]
    done: dict[str, t.Any] = {"deleted_users": users[:2]}
    for uid in users[:2]:
        api("DELETE", f"/users/{q(uid)}")
    api("PATCH", f"/users/{q(users[2])}", {"blocked": True})
    # Roles granted and revoked, a permission granted and one revoked.
    api("POST", f"/users/{q(users[3])}/roles", {"roles": [role_a]})
    member = next(u["user_id"] for u in tt["role_users"][role_b] if u["user_id"] not in users[:2])
    api("DELETE", f"/users/{q(member)}/roles", {"roles": [role_b]})
    perm = tt["role_permissions"][role_a][0]
    api(
        "DELETE",
        f"/roles/{role_a}/permissions",
        {
            "permissions": [
                {
                    "resource_server_identifier": perm["resource_server_identifier"],
                    "permission_name": perm["permission_name"],
                }
            ]
        },
    )
    # Organization members and member roles, in and out.
    api("POST", f"/organizations/{org_a}/members", {"members": [users[4]]})
    api("POST", f"/organizations/{org_a}/members/{q(users[4])}/roles", {"roles": [role_a]})
    leaving = next(
        m["user_id"] for m in tt["organization_members"][org_b] if m["user_id"] not in users[:2]
    )
    with_roles = [
        (uid, rs)
        for uid, rs in tt["organization_member_roles"][org_b].items()
        if rs and uid not in users[:2] and uid != leaving
    ]
    if with_roles:
        uid, rs = with_roles[0]
        api("DELETE", f"/organizations/{org_b}/members/{q(uid)}/roles", {"roles": [rs[0]["id"]]})
    api("DELETE", f"/organizations/{org_b}/members", {"members": [leaving]})
    # Enabled connections off and on.
    enabled = tt["organization_enabled_connections"][org_a]
    if enabled:
        api("DELETE", f"/organizations/{org_a}/enabled_connections/{enabled[0]['connection_id']}")
    spare = next(
        c["id"]
        for c in tt["connections"]
        if c["id"]
        not in {e["connection_id"] for e in tt["organization_enabled_connections"][org_b]}
    )
    api(
        "POST",
        f"/organizations/{org_b}/enabled_connections",
        {"connection_id": spare, "assign_membership_on_login": False},
    )
    # An organization and a client created and one of each deleted.
    api("POST", "/organizations", {"name": "capture-new-org"})
    api("DELETE", f"/organizations/{orgs[2]}")
    api("POST", "/clients", {"name": "capture-new-client"})
    api("DELETE", f"/clients/{tt['clients'][-1]['client_id']}")
    # MFA enrolled and deleted, sessions revoked.
    sb.enroll(users[5])
    methods = {
        uid: ms for uid, ms in tt["user_authentication_methods"].items() if uid not in users[:6]
    }
    uid, ms = next(iter(methods.items()))
    api("DELETE", f"/users/{q(uid)}/authentication-methods/{q(ms[0]['id'])}")
    sessions = [u for u in tt["user_sessions"] if u not in users[:2]]
    api("DELETE", f"/users/{q(sessions[0])}/sessions")
    done["revoked_all"] = sessions[0]
    done["calls"] = api.calls + 1  # and the enrolment
    return done


def test_changes_cost_what_they_name_and_every_table_equals_the_truth(runs, caplog):
    caplog.set_level(logging.INFO)
    done = make_changes(runs.sb)
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
        got = {
            k for k in got if not _left_to_full_pass(table, rows[k], deleted_users, gone_parents)
        }
        if table == "user_sessions":
            # Revoked all at once: the log names the user, not the sessions (no key to
            # tombstone); the next full pass drops them.
            got -= {k for k in got if k[0] == done["revoked_all"]}
        assert got == want, (table, sorted(got - want)[:3], sorted(want - got)[:3])
    tomb = runs.replay.tombstones
    assert {(u,) for u in deleted_users} <= tomb.get("users", set())
    assert {(u,) for u in deleted_users} <= tomb.get("user_detail", set())
    assert tomb.get("organizations"), "the deleted organization"
    assert tomb.get("role_members") and tomb.get("organization_members")
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


def _left_to_full_pass(
    table: str, row: dict[str, t.Any], deleted_users: set[str], gone: dict[str, set[str]]
) -> bool:
    """A deleted user's rows and a deleted parent's children stay until the full pass."""
    if table in BY_USER and row.get("user_id") in deleted_users:
        return True
    parent = BY_PARENT.get(table)
    return parent is not None and row.get(parent[1]) in gone.get(parent[0], set())
