"""The audit marts (transform/: auth0_admin_activity) on both warehouses, after admin changes
made over HTTP between two runs of `meltano run tap-auth0 <loader> dbt-<warehouse>:build`.

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
- no request body reaches the mart (a masked secret, "*****", appears nowhere in it).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from auth0_sandbox import Sandbox, SandboxConfig

from tests.e2e.test_dbt_models import check_build, dbt_paths, landed, marts_truth, need_dbt
from tests.support import postgres
from tests.support.changes import TOKEN, Api, make_changes, q
from tests.support.figures import report
from tests.support.meltano import CLIENT_ID, CLIENT_SECRET, MeltanoRunner, need_meltano
from tests.support.postgres import sqlalchemy_url
from tests.support.warehouse import query

CONFIG = SandboxConfig(
    users=150,
    seed=33,
    roles=6,
    organizations=8,
    logs=150,
    enterprise_features=True,
    access_token=TOKEN,
    client_id=CLIENT_ID,
    client_secret=CLIENT_SECRET,
)


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


def more_changes(sb: Sandbox, tag: str) -> list[Call]:
    api = Recorder(sb)
    tt = sb.tenant_truth()
    users = sorted(u["user_id"] for u in sb.truth())[10:]
    role = api.call("POST", "/roles", {"name": f"audit-role-{tag}"}, "role")["id"]
    api.call("POST", f"/roles/{role}/users", {"users": users[:2]}, "role", role)
    # A grant made and removed before the next run: the log is the only trace of it.
    api.call("POST", f"/users/{q(users[2])}/roles", {"roles": [role]}, "user", users[2], users[2])
    api.call("DELETE", f"/users/{q(users[2])}/roles", {"roles": [role]}, "user", users[2], users[2])
    conns = [c["id"] for c in tt["connections"]]
    api.call("PATCH", f"/connections/{conns[0]}", {"display_name": f"Audited {tag}"},
             "connection", conns[0])  # fmt: skip
    api.call("DELETE", f"/connections/{conns[-1]}", None, "connection", conns[-1])
    client = tt["clients"][0]["client_id"]
    api.call("PATCH", f"/clients/{client}", {"description": f"audited {tag}"}, "client", client)
    org = tt["organizations"][0]["id"]
    api.call("PATCH", f"/organizations/{org}", {"display_name": f"Audited {tag}"},
             "organization", org)  # fmt: skip
    api.call("DELETE", "/roles/rol_doesnotexist000", None, "role", "rol_doesnotexist000",
             status=404)  # fmt: skip
    return api.made


def pipeline(meltano: MeltanoRunner, kind: str) -> float:
    started = time.monotonic()
    meltano("run", "tap-auth0", f"target-{kind}", f"dbt-{kind}:build")
    return time.monotonic() - started


@dataclass
class Loaded:
    sb: Sandbox
    kind: str
    target: str
    marts: str
    dbt_target: Path
    made: list[Call]
    seconds: float  # run 2 (incremental): tap, loader, dbt build

    @property
    def schema(self) -> str:  # what test_dbt_models' helpers read
        return self.marts

    @property
    def run_results(self) -> dict[str, Any]:
        return json.loads((self.dbt_target / "run_results.json").read_text())

    def sql(self, *statements: str) -> list[list[dict[str, Any]]]:
        return query(self.kind, self.target, *statements)


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

        def runs(target: str, marts: str) -> Loaded:
            pipeline(meltano, kind)
            make_changes(sb, "1")
            made = more_changes(sb, "1")
            seconds = pipeline(meltano, kind)
            return Loaded(sb, kind, target, marts, dbt_target, made, seconds)

        if kind == "duckdb":
            meltano.env["TARGET_DUCKDB_HARD_DELETE"] = "true"
            yield runs(str(workdir / "e2e.duckdb"), "analytics")
            return
        uri = request.getfixturevalue("pg_uri")
        with postgres.scratch_schema(uri) as schema:
            marts = f"{schema}_marts"
            meltano.env["TAP_AUTH0_PG_URI"] = sqlalchemy_url(uri)
            meltano.env["TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA"] = schema
            meltano.env["DBT_POSTGRES_SOURCE_SCHEMA"] = schema
            meltano.env["DBT_POSTGRES_SCHEMA"] = marts
            try:
                yield runs(uri, marts)
            finally:
                query("postgres", uri, f'DROP SCHEMA IF EXISTS "{marts}" CASCADE')


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
    for call in loaded.made:
        hits = [
            r for r in rows
            if r["method"] == call.method and r["request_path"] == "/api/v2" + call.path
        ]  # fmt: skip
        assert len(hits) == len({c for c in loaded.made if c == call}), (call, hits)
        for r in hits:
            assert r["actor_client_id"] == CLIENT_ID
            assert r["resource_kind"] == call.kind, (call, r)
            assert r["resource_id"] == call.resource_id, (call, r)
            assert r["target_user_id"] == call.target_user, (call, r)
            assert int(r["status_code"]) == call.status
            assert r["is_succeeded"] is (call.status < 400)
    made = {("/api/v2" + c.path, c.method) for c in loaded.made}
    shown = [r for r in rows if (r["request_path"], r["method"]) in made][:6]
    cols = ("event_at", "actor_client_id", "action", "method", "resource_kind", "resource_id",
            "sub_resource", "target_user_id", "named_user_ids", "named_role_ids",
            "status_code", "is_succeeded")  # fmt: skip
    report(f"audit {loaded.kind}: {len(loaded.made)} calls made, each once; rows e.g.:")
    for r in shown:
        report("  " + " | ".join(str(r[c]) for c in cols))


def test_no_request_body_reaches_the_mart(loaded: Loaded) -> None:
    (cols,) = loaded.sql(f"SELECT * FROM {loaded.marts}.auth0_admin_activity")
    text = json.dumps(cols, default=str)
    assert "*****" not in text
    assert "audit-role-1" not in text and "Audited 1" not in text  # names sent in bodies
