"""The audit marts (transform/: auth0_admin_activity, auth0_access_review) and the report on
both warehouses, after admin changes made over HTTP between two runs of
`meltano run tap-auth0 <loader> dbt-<warehouse>:build`.

Between run 1 (full) and run 2 (incremental), an admin makes the change-capture mix
(tests/support/changes.py: users deleted and blocked, roles and organization memberships
granted and revoked, an organization and a client created and deleted, ...) and a few more:
a role created and given two users, a role granted and revoked again before the next run,
a connection changed and one deleted, a client and an organization renamed, and a call
that fails (404, logged as `fapi`). After run 2:
- every dbt test passes;
- auth0_admin_activity equals, row for row, what scripts/marts_truth.py derives from the
  sandbox's log (with its own parser, apart from the SQL);
- every call the test made appears exactly once, with its actor, its resource kind and id
  and its target user as the test itself expects them;
- no request body reaches the mart (a masked secret, "*****", appears nowhere in it);
- auth0_access_review equals, row for row, the tenant's current role members and
  organization member roles with their roles' permissions, granted_at / granted_by from the
  log's latest grant of each that no revoke followed (scripts/marts_truth.py), and
  is_privileged from the `privileged_roles` var (set through AUTH0_PRIVILEGED_ROLES); the
  role the test created has a row per grant in force, with the test's own grant (a re-grant
  after a revoke: the re-grant), or no grant time where the grant in force is not in the
  log (re-granted by the sandbox without logging, after a logged revoke);
- the report's figures (admin actions per day by actor, access changes of the last 7 days,
  and the rest) equal the marts.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from auth0_sandbox import Sandbox

from tests.e2e.test_dbt_models import (
    check_build,
    check_report,
    dbt_paths,
    landed,
    marts_truth,
    need_dbt,
)
from tests.support import postgres
from tests.support.changes import Api, capture_tenant, make_changes, q
from tests.support.figures import report
from tests.support.meltano import CLIENT_ID, MeltanoRunner, need_meltano
from tests.support.warehouse import BuiltMarts

TAG = "1"  # names what the changes between the runs create
CONFIG = capture_tenant(users=150, seed=33, roles=6, organizations=8, logs=150)


@dataclass(frozen=True)
class Call:
    """One call the test made, and what auth0_admin_activity must say about it."""

    method: str
    path: str  # after /api/v2, as sent
    kind: str
    resource_id: str | None
    target_user: str | None
    status: int


class Recorder(Api):
    """The Management API as an admin calls it, keeping each call with its expected row."""

    def __init__(self, sb: Sandbox) -> None:
        super().__init__(sb)
        self.made: list[Call] = []

    def call(
        self,
        method: str,
        path: str,
        body: Any,
        kind: str,
        rid: str | None = None,
        user: str | None = None,
        status: int | None = None,
    ) -> Any:
        self.calls += 1
        r = self.s.request(method, self.base + path, json=body, timeout=30)
        assert r.status_code == status if status else r.status_code < 300, (method, path, r.text)
        out = r.json() if r.content else None
        if rid is None and isinstance(out, dict):
            rid = out.get("id")
        self.made.append(Call(method, path, kind, rid, user, r.status_code))
        return out


# What auth0_access_review must say of a grant of the role more_changes creates, per
# (user, source): the action of the grant in force when the log has it (granted_at,
# granted_by from it), None when it does not (granted_at null).
Granted = dict[tuple[str, str], str | None]


def more_changes(sb: Sandbox, tag: str) -> tuple[list[Call], Granted]:
    api = Recorder(sb)
    tt = sb.tenant_truth()
    users = sorted(u["user_id"] for u in sb.truth())[10:]
    role = api.call("POST", "/roles", {"name": f"audit-role-{tag}"}, "role")["id"]
    u3, u4, u5 = users[3:6]
    api.call("POST", f"/roles/{role}/users", {"users": [*users[:2], u3]}, "role", role)
    # A grant made and removed before the next run: the log is the only trace of it.
    api.call("POST", f"/users/{q(users[2])}/roles", {"roles": [role]}, "user", users[2], users[2])
    api.call("DELETE", f"/users/{q(users[2])}/roles", {"roles": [role]}, "user", users[2], users[2])
    # Revoked and granted again: the re-grant is the grant in force (users[3]). Revoked, then
    # granted again where the log does not see it (users[4], and users[5]'s organization
    # role, revoked by the member's removal): the access is there, its grant unknown.
    api.call("DELETE", f"/users/{q(u3)}/roles", {"roles": [role]}, "user", u3, u3)
    api.call("POST", f"/users/{q(u3)}/roles", {"roles": [role]}, "user", u3, u3)
    api.call("POST", f"/users/{q(u4)}/roles", {"roles": [role]}, "user", u4, u4)
    api.call("DELETE", f"/users/{q(u4)}/roles", {"roles": [role]}, "user", u4, u4)
    sb.change_user_roles(u4, [role], True, log=False)
    conns = [c["id"] for c in tt["connections"]]
    api.call("PATCH", f"/connections/{conns[0]}", {"display_name": f"Audited {tag}"},
             "connection", conns[0])  # fmt: skip
    api.call("DELETE", f"/connections/{conns[-1]}", None, "connection", conns[-1])
    client = tt["clients"][0]["client_id"]
    api.call("PATCH", f"/clients/{client}", {"description": f"audited {tag}"}, "client", client)
    org = tt["organizations"][0]["id"]
    api.call("PATCH", f"/organizations/{org}", {"display_name": f"Audited {tag}"},
             "organization", org)  # fmt: skip
    members = f"/organizations/{org}/members"
    api.call("POST", members, {"members": [u5]}, "organization", org, u5)
    api.call("POST", f"{members}/{q(u5)}/roles", {"roles": [role]}, "organization", org, u5)
    api.call("DELETE", members, {"members": [u5]}, "organization", org, u5)
    sb.change_organization_members(org, [u5], True, log=False)
    sb.change_member_roles(org, u5, [role], True, log=False)
    api.call("DELETE", "/roles/rol_doesnotexist000", None, "role", "rol_doesnotexist000",
             status=404)  # fmt: skip
    granted: Granted = {(u, "direct"): "Assign users to a role" for u in users[:2]}
    granted[(u3, "direct")] = "Assign roles to a user"
    granted.update({(u4, "direct"): None, (u5, f"organization:{org}"): None})
    return api.made, granted


def pipeline(meltano: MeltanoRunner, kind: str) -> float:
    started = time.monotonic()
    meltano("run", "tap-auth0", f"target-{kind}", f"dbt-{kind}:build")
    return time.monotonic() - started


@dataclass
class Loaded(BuiltMarts):
    sb: Sandbox
    kind: str
    target: str
    marts: str
    dbt_target: Path
    made: list[Call]
    granted: Granted
    seconds: float  # run 2 (incremental): tap, loader, dbt build
    changed_from: datetime  # when the changes between the runs began (UTC)
    privileged: tuple[str, ...]  # the `privileged_roles` var the dbt build ran with
    workdir: Path


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def loaded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    kind = request.param
    need_meltano()
    need_dbt(kind)
    workdir = tmp_path_factory.mktemp(f"audit-{kind}")
    with Sandbox(CONFIG) as sb:
        meltano = MeltanoRunner(workdir, sb.base_url)
        meltano.env["TAP_AUTH0__SELECT"] = json.dumps(["*.*"])
        dbt_target = dbt_paths(meltano, workdir, f"dbt-{kind}")
        # The role the changes create, and one the sandbox has from the start.
        privileged = (f"audit-role-{TAG}", sb.tenant_truth()["roles"][0]["name"])
        meltano.env["AUTH0_PRIVILEGED_ROLES"] = ",".join(privileged)

        def runs(target: str, marts: str) -> Loaded:
            pipeline(meltano, kind)
            changed_from = datetime.now(timezone.utc)
            make_changes(sb, TAG)
            made, granted = more_changes(sb, TAG)
            seconds = pipeline(meltano, kind)
            return Loaded(
                sb, kind, target, marts, dbt_target, made, granted, seconds, changed_from,
                privileged, workdir,
            )  # fmt: skip

        if kind == "duckdb":
            meltano.env["TARGET_DUCKDB_HARD_DELETE"] = "true"
            yield runs(str(workdir / "e2e.duckdb"), "analytics")
            return
        uri = request.getfixturevalue("pg_uri")
        with postgres.meltano_schemas(meltano, uri) as (_, marts):
            yield runs(uri, marts)


def test_dbt_build_passes(loaded: Loaded) -> None:
    check_build(loaded)  # type: ignore[arg-type]


def test_admin_activity_equals_the_log(loaded: Loaded) -> None:
    sb = loaded.sb
    truth = marts_truth.expected(sb.truth(), sb.tenant_truth(), sb.logs_truth())
    got = landed(loaded)  # type: ignore[arg-type]
    want, have = truth["auth0_admin_activity"], got["auth0_admin_activity"]
    missing = sorted(set(want["actions"]) - set(have["actions"]))
    differ = [k for k in want["actions"] if k in have["actions"]
              and want["actions"][k] != have["actions"][k]]  # fmt: skip
    assert not missing and not differ, (
        missing[:3],
        [(want["actions"][k], have["actions"][k]) for k in differ[:3]],
    )
    assert have == want
    report(
        f"audit {loaded.kind}: auth0_admin_activity {have['rows']} rows = the log's "
        f"{want['rows']} sapi/fapi events; by kind {dict(sorted(have['by_kind'].items()))}"
    )


def test_every_call_made_appears_once_with_actor_and_resource(loaded: Loaded) -> None:
    (rows,) = loaded.sql(
        "SELECT log_id, CAST(event_at AS VARCHAR(30)) AS event_at, actor_client_id,"
        " action, method, request_path, resource_kind, resource_id, sub_resource,"
        " target_user_id, named_user_ids, named_role_ids, status_code, is_succeeded"
        f" FROM {loaded.marts}.auth0_admin_activity ORDER BY event_at, log_id"
    )
    check_calls_once(rows, loaded.made, loaded.changed_from)
    since = marts_truth.instant(loaded.changed_from.isoformat()) or ""
    made = {("/api/v2" + c.path, c.method) for c in loaded.made}
    shown = [
        r for r in rows
        if (r["request_path"], r["method"]) in made
        and (marts_truth.instant(r["event_at"]) or "") >= since
    ][:6]  # fmt: skip
    cols = ("event_at", "actor_client_id", "action", "method", "resource_kind", "resource_id",
            "sub_resource", "target_user_id", "named_user_ids", "named_role_ids",
            "status_code", "is_succeeded")  # fmt: skip
    report(f"audit {loaded.kind}: {len(loaded.made)} calls made, each once; rows e.g.:")
    for r in shown:
        report("  " + " | ".join(str(r[c]) for c in cols))


def check_calls_once(rows: list[dict[str, Any]], made: list[Call], since: datetime) -> None:
    """Each call in `made` is in auth0_admin_activity's `rows` as many times as it was made
    (after `since`), by the test's client, with the resource and target user it acted on."""
    # Other writes may name the same path (an organization's members): the sandbox's own
    # older events, make_changes' calls. A call's rows: its path's, for its target user.
    start = marts_truth.instant(since.isoformat()) or ""
    rows = [r for r in rows if (marts_truth.instant(r["event_at"]) or "") >= start]
    for call in made:
        hits = [
            r for r in rows
            if r["method"] == call.method and r["request_path"] == "/api/v2" + call.path
            and r["target_user_id"] == call.target_user
        ]  # fmt: skip
        assert len(hits) == len([c for c in made if c == call]), (call, hits)
        for r in hits:
            assert r["actor_client_id"] == CLIENT_ID
            assert r["resource_kind"] == call.kind, (call, r)
            assert r["resource_id"] == call.resource_id, (call, r)
            assert r["target_user_id"] == call.target_user, (call, r)
            assert int(r["status_code"]) == call.status
            assert r["is_succeeded"] is (call.status < 400)


def test_no_request_body_reaches_the_mart(loaded: Loaded) -> None:
    (cols,) = loaded.sql(f"SELECT * FROM {loaded.marts}.auth0_admin_activity")
    text = json.dumps(cols, default=str)
    assert "*****" not in text
    assert "audit-role-1" not in text and "Audited 1" not in text  # names sent in bodies


REVIEW_SHOWN = (
    "user_id", "role_name", "source", "is_privileged", "permission_count", "granted_at",
    "granted_by_client_id", "granted_by_client_name",
)  # fmt: skip


def test_access_review_equals_the_truth(loaded: Loaded) -> None:
    sb = loaded.sb
    truth = marts_truth.expected(
        sb.truth(), sb.tenant_truth(), sb.logs_truth(), privileged_roles=loaded.privileged
    )
    want = truth["auth0_access_review"]
    have = landed(loaded)["auth0_access_review"]  # type: ignore[arg-type]
    w, h = want["grants"], have["grants"]
    differ = [k for k in w if k in h and w[k] != h[k]]
    assert set(w) == set(h) and not differ, (
        sorted(set(w) - set(h))[:3],
        sorted(set(h) - set(w))[:3],
        [(k, w[k], h[k]) for k in differ[:3]],
    )
    assert have == want
    assert want["privileged"] and want["granted_known"], "the test flags and grants some"
    report(
        f"audit {loaded.kind}: auth0_access_review {have['rows']} rows = the tenant's grants;"
        f" {have['privileged']} privileged ({', '.join(loaded.privileged)}),"
        f" {have['granted_known']} with granted_at/granted_by from the log"
    )


def test_access_review_shows_the_grants_the_test_made(loaded: Loaded) -> None:
    """The role created between the runs: every grant of it in force has its row, flagged
    privileged; a grant the log shows says when and by which client (the latest grant, after
    a revoke and a re-grant); one the log does not show has no grant time."""
    s = loaded.marts
    cols = ", ".join(c for c in REVIEW_SHOWN if c != "granted_at")
    rcols = ", ".join(f"r.{c}" for c in REVIEW_SHOWN if c != "granted_at")
    rows, shown = loaded.sql(
        f"SELECT {rcols}, CAST(r.granted_at AS VARCHAR(30)) AS granted_at, a.action"
        f" FROM {s}.auth0_access_review AS r"
        f" LEFT JOIN {s}.auth0_admin_activity AS a ON a.log_id = r.granted_log_id"
        f" WHERE r.role_name = 'audit-role-{TAG}' ORDER BY r.user_id",
        f"SELECT {cols}, CAST(granted_at AS VARCHAR(30)) AS granted_at"
        f" FROM {s}.auth0_access_review"
        " ORDER BY CASE WHEN granted_at IS NULL THEN 1 ELSE 0 END, granted_at DESC, user_id,"
        " role_id, source",
    )
    assert {(r["user_id"], r["source"]) for r in rows} == set(loaded.granted), rows
    since = marts_truth.instant(loaded.changed_from.isoformat()) or ""
    for r in rows:
        assert r["is_privileged"] in (True, 1), r
        action = loaded.granted[(r["user_id"], r["source"])]
        if action:
            assert r["granted_by_client_id"] == CLIENT_ID, r
            assert r["action"] == action, r
            assert (marts_truth.instant(r["granted_at"]) or "") >= since, r
        else:
            assert r["granted_at"] is None and r["granted_by_client_id"] is None, r
    report(f"audit {loaded.kind}: auth0_access_review rows e.g. ({', '.join(REVIEW_SHOWN)}):")
    for r in [*shown[:4], *[r for r in shown if r["granted_at"] is None][:2]]:
        report("  " + " | ".join(str(r[c]) for c in REVIEW_SHOWN))


def test_report_figures_equal_marts(loaded: Loaded) -> None:
    check_report(loaded, loaded.workdir / f"auth0-report-{loaded.kind}.html")
