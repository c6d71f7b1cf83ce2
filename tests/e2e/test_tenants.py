"""Two tenants, one warehouse: two sandboxes (tenants `a` and `b`) -> an inherited extractor
each (`tap-auth0--a`, `tap-auth0--b`) -> Meltano -> a schema each (`auth0_a`, `auth0_b`) in one
PostgreSQL database, and in one DuckDB file -> `dbt build` with the `tenants` var.

Both tenants hold one social user with the same `user_id` (`google-oauth2|<same sub>`) and one
role with the same id, so keys collide across tenants unless `tenant` is part of them. Round 1
is the first run of each. Round 2 runs again (incremental: change capture) after the shared
role is deleted in tenant A and the shared user in tenant B, through the Management API.
After each round, on both warehouses:
- every staging model holds exactly the union of the two tenants' truths (its keys, each with
  its `tenant`), and every mart the figures and rows scripts/marts_truth.py derives from each
  tenant's truth; the monthly all-tenants total is the sum of the tenants';
- no two rows of any model share a key with `tenant` (and without it the shared ids do);
- auth0_access_history's open intervals of each tenant are exactly that tenant's grants in
  force (the shared user's grants, and the shared role's members, are open in both tenants
  until round 2 ends one tenant's);
- the HTML report (scripts/report.py) has a row per tenant with its users, and its charts
  add the tenants up (one bar per day, not one per tenant);
- each tenant's deletions leave the other's rows alone: after round 2 the shared role is in
  B only, and the shared user in A only.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from auth0_sandbox import Sandbox, SandboxConfig

from tests.e2e.test_dbt_models import dbt_paths, marts_truth, need_dbt, report_py
from tests.support.changes import TOKEN, Api, q
from tests.support.figures import report
from tests.support.meltano import (
    CLIENT_ID,
    CLIENT_SECRET,
    PLUGIN_VENVS,
    MeltanoRunner,
    need_meltano,
)
from tests.support.paths import ROOT
from tests.support.postgres import sqlalchemy_url
from tests.support.replay import truth_keys
from tests.support.warehouse import query

TENANTS = {"a": 41, "b": 42}  # tenant name -> sandbox seed
SHARED_USER = "google-oauth2|104729000000000000042"
SHARED_ROLE = "rol_SharedAcrossTen"
OK = ("success", "pass")

# Staging model -> (stream whose truth keys it holds, its key columns in the stream's order).
STAGING = {
    "stg_auth0__users": ("users", ("user_id",)),
    "stg_auth0__user_detail": ("user_detail", ("user_id",)),
    "stg_auth0__user_permissions": (
        "user_permissions", ("user_id", "resource_server_identifier", "permission_name"),
    ),
    "stg_auth0__user_authentication_methods": (
        "user_authentication_methods", ("user_id", "authentication_method_id"),
    ),
    "stg_auth0__user_sessions": ("user_sessions", ("user_id", "session_id")),
    "stg_auth0__user_refresh_tokens": ("user_refresh_tokens", ("user_id", "refresh_token_id")),
    "stg_auth0__roles": ("roles", ("role_id",)),
    "stg_auth0__role_permissions": (
        "role_permissions", ("role_id", "resource_server_identifier", "permission_name"),
    ),
    "stg_auth0__role_members": ("role_members", ("role_id", "user_id")),
    "stg_auth0__organizations": ("organizations", ("organization_id",)),
    "stg_auth0__organization_members": ("organization_members", ("organization_id", "user_id")),
    "stg_auth0__organization_member_roles": (
        "organization_member_roles", ("organization_id", "user_id", "role_id"),
    ),
    "stg_auth0__organization_connections": (
        "organization_connections", ("organization_id", "connection_id"),
    ),
    "stg_auth0__organization_invitations": ("organization_invitations", ("invitation_id",)),
    "stg_auth0__clients": ("clients", ("client_id",)),
    "stg_auth0__client_grants": ("client_grants", ("client_grant_id",)),
    "stg_auth0__grants": ("grants", ("grant_id",)),
    "stg_auth0__resource_servers": ("resource_servers", ("resource_server_id",)),
    "stg_auth0__connections": ("connections", ("connection_id",)),
    "stg_auth0__connection_clients": ("connection_clients", ("connection_id", "client_id")),
    "stg_auth0__actions": ("actions", ("action_id",)),
    "stg_auth0__log_streams": ("log_streams", ("log_stream_id",)),
    "stg_auth0__logs": ("logs", ("log_id",)),
    "stg_auth0__management_actions": ("management_actions", ("log_id",)),
    "stg_auth0__management_action_ids": (
        "management_action_ids", ("log_id", "named_kind", "position"),
    ),
    "stg_auth0__access_changes": (
        "access_changes",
        ("log_id", "change_type", "access_kind", "user_id", "role_id", "organization_id"),
    ),
    "stg_auth0__user_identities": ("user_identities", ("user_id", "identity_index")),
    "stg_auth0__stats_daily": ("stats_daily", ("stats_date",)),
    "stg_auth0__stats_active_users": ("stats_active_users", ("active_users",)),
}  # fmt: skip
# Each mart's key (without `tenant`).
MART_KEYS = {
    "auth0_users": ("user_id",),
    "auth0_user_roles": ("user_id", "role_id", "source"),
    "auth0_daily_activity": ("activity_date",),
    "auth0_app_daily_logins": ("activity_date", "client_id"),
    "auth0_monthly_active_users": ("month_start",),
    "auth0_admin_activity": ("log_id",),
    "auth0_access_review": ("user_id", "role_id", "source"),
    "auth0_access_history": (
        "user_id",
        "access_kind",
        "target_id",
        "organization_id",
        "valid_from",
    ),
}
DATES = {"stats_date", "activity_date", "month_start"}
PG_SCHEMAS = tuple(f"auth0_{t}" for t in TENANTS)
PG_MARTS = "analytics_tenants"


def sandbox_config(tenant: str, seed: int) -> SandboxConfig:
    """A small tenant: 100 users, 4 roles and organizations, 150 log events."""
    return SandboxConfig(
        users=100,
        seed=seed,
        tenant=tenant,
        roles=4,
        organizations=4,
        clients=4,
        logs=150,
        access_token=TOKEN,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
    )


def share(sb: Sandbox) -> None:
    """The social user and the role both tenants hold, the user a member of the role with
    three of the tenant's own users (so the role outlives the user's deletion)."""
    sb.create_user(user_id=SHARED_USER, connection="google-oauth2", email="shared@example.com")
    sb.create_role("shared-role", "In both tenants", role_id=SHARED_ROLE)
    others = sorted(u["user_id"] for u in sb.truth() if u["user_id"] != SHARED_USER)[:3]
    sb.add_role_users(SHARED_ROLE, [SHARED_USER, *others])


# -- the Meltano project: the repo's, with an inherited extractor per tenant ---------------
def tenant_project(workdir: Path, sandboxes: dict[str, Sandbox]) -> Path:
    """A Meltano project in ``workdir``: the repo's meltano.yml plus `tap-auth0--<tenant>`
    per sandbox, each loading schema `auth0_<tenant>` (its `load_schema`, which the loaders'
    `default_target_schema` reads); the repo's installed plugins and dbt project."""
    root = workdir / "project"
    root.mkdir()
    spec = yaml.safe_load((ROOT / "meltano.yml").read_text())
    names = {f"tap-auth0--{t}" for t in sandboxes}
    extractors = [p for p in spec["plugins"]["extractors"] if p["name"] not in names]
    for tenant, sb in sandboxes.items():
        extractors.append(
            {
                "name": f"tap-auth0--{tenant}",
                "inherit_from": "tap-auth0",
                "load_schema": f"auth0_{tenant}",
                "select": ["*.*"],  # the opt-in per-user streams too
                "config": {
                    "domain": sb.base_url,
                    "tenant": tenant,
                    "client_id": CLIENT_ID,
                    "client_secret": CLIENT_SECRET,
                },
            }
        )
    spec["plugins"]["extractors"] = extractors
    for loader in spec["plugins"]["loaders"]:
        if loader["name"] in ("target-postgres", "target-duckdb"):
            loader["config"]["default_target_schema"] = "$MELTANO_EXTRACT__LOAD_SCHEMA"
    spec.pop("jobs", None)
    spec.pop("schedules", None)
    (root / "meltano.yml").write_text(yaml.safe_dump(spec, sort_keys=False))
    (root / ".meltano").mkdir()
    for kind in ("extractors", "loaders", "utilities"):
        (root / ".meltano" / kind).symlink_to(PLUGIN_VENVS / kind)
    (root / "transform").symlink_to(ROOT / "transform")
    return root


@dataclass
class Warehouse:
    kind: str  # duckdb | postgres
    target: str  # DuckDB file or PostgreSQL URI (of the one database)
    schema: str  # the staging views' and marts' schema
    meltano: MeltanoRunner
    dbt_target: Path
    seconds: list[float] = field(default_factory=list)

    def sql(self, *statements: str) -> list[list[dict[str, Any]]]:
        return query(self.kind, self.target, *statements)

    def run(self) -> None:
        """Both tenants, one after the other, then `dbt build` over both."""
        started = time.monotonic()
        loader = f"target-{self.kind}"
        self.meltano("run", "tap-auth0--a", loader, "tap-auth0--b", loader)
        if self.kind == "postgres":
            # The var from the environment (dbt_project.yml reads AUTH0_TENANTS): schemas
            # only, the names from the tenant column (or the schema).
            self.meltano.env["AUTH0_TENANTS"] = "auth0_a,auth0_b"
            self.meltano("invoke", "dbt-postgres", "build")
        else:
            tenants = {"tenants": [{"name": t, "schema": f"auth0_{t}"} for t in TENANTS]}
            self.meltano("invoke", "dbt-duckdb", "build", "--vars", json.dumps(tenants))
        self.seconds.append(time.monotonic() - started)
        results = json.loads((self.dbt_target / "run_results.json").read_text())["results"]
        bad = [(r["unique_id"], r["status"]) for r in results if r["status"] not in OK]
        tests = sum(r["unique_id"].startswith("test.") for r in results)
        report(
            f"tenants {self.kind} round {len(self.seconds)}: dbt build {len(results)} nodes"
            f" ({tests} tests), {len(bad)} not passing; both tenants and dbt"
            f" {self.seconds[-1]:.1f}s"
        )
        assert not bad, bad[:5]


# -- the truths ---------------------------------------------------------------------------
def stringify(key: tuple[Any, ...]) -> tuple[str | None, ...]:
    return tuple(None if v is None else str(v) for v in key)


def staging_truth(sb: Sandbox) -> dict[str, set[tuple[str | None, ...]]]:
    """Per staging model, the keys the sandbox's truth implies (in ``STAGING``'s columns)."""
    users, tt, logs = sb.truth(), sb.tenant_truth(), sb.logs_truth()
    keys: dict[str, set[tuple[Any, ...]]] = dict(truth_keys(tt, users))
    names = {c["client_id"]: c.get("name") for c in tt["clients"]}
    writes = [e for e in logs if e.get("type") in ("sapi", "fapi")]
    keys["logs"] = {(e["log_id"],) for e in logs}
    keys["management_actions"] = {(e["log_id"],) for e in writes}
    keys["management_action_ids"] = set()
    for e in writes:
        action = marts_truth.admin_action(e, names)
        for kind, ids in (("user", action[10]), ("role", action[11])):
            for position, _ in enumerate((ids or "").split(",") if ids else []):
                keys["management_action_ids"].add((e["log_id"], kind, position))
    keys["access_changes"] = {c[0:1] + c[2:7] for c in marts_truth.access_changes(logs, names)}
    keys["user_identities"] = {
        (u["user_id"], i) for u in users for i in range(len(u.get("identities") or []))
    }
    stats = sb.stats_truth()
    keys["stats_daily"] = {(str(r["date"])[:10],) for r in stats["daily"]}
    keys["stats_active_users"] = {(stats["active_users"],)}
    return {model: {stringify(k) for k in keys[stream]} for model, (stream, _) in STAGING.items()}


def grants_in_force(tt: dict[str, Any]) -> set[tuple[str | None, ...]]:
    """A tenant truth's grants as auth0_access_history keys them: (user, kind, target,
    organization)."""
    out: set[tuple[str | None, ...]] = {
        (u["user_id"], "role", rid, None) for rid, us in tt["role_users"].items() for u in us
    }
    out |= {
        (u["user_id"], "organization", oid, oid)
        for oid, us in tt["organization_members"].items()
        for u in us
    }
    out |= {
        (uid, "organization_role", str(r["id"]), oid)
        for oid, per_user in tt["organization_member_roles"].items()
        for uid, rs in per_user.items()
        for r in rs
    }
    return out


def read_open_grants(wh: Warehouse) -> dict[str, set[tuple[str | None, ...]]]:
    """Per tenant, auth0_access_history's open intervals."""
    (rows,) = wh.sql(
        "SELECT tenant, user_id, access_kind, target_id, organization_id"
        f" FROM {wh.schema}.auth0_access_history WHERE valid_to IS NULL"
    )
    out: dict[str, set[tuple[str | None, ...]]] = {t: set() for t in TENANTS}
    for r in rows:
        key = (r["user_id"], r["access_kind"], r["target_id"], r["organization_id"])
        assert key not in out[r["tenant"]], ("two open intervals", r)
        out[r["tenant"]].add(key)
    return out


def read_staging(wh: Warehouse) -> dict[str, dict[str, set[tuple[str | None, ...]]]]:
    """Per staging model, per tenant, its keys (as text; dates as YYYY-MM-DD)."""

    def col(c: str) -> str:
        return f"CAST(CAST({c} AS DATE) AS VARCHAR)" if c in DATES else f"CAST({c} AS VARCHAR)"

    statements = [
        f"SELECT tenant, {', '.join(col(c) + f' AS {c}' for c in cols)} FROM {wh.schema}.{model}"
        for model, (_, cols) in STAGING.items()
    ]
    out: dict[str, dict[str, set[tuple[str | None, ...]]]] = {}
    for (model, (_, cols)), rows in zip(STAGING.items(), wh.sql(*statements), strict=True):
        per = out.setdefault(model, {t: set() for t in TENANTS})
        for r in rows:
            assert r["tenant"] in TENANTS, (model, r)
            per[r["tenant"]].add(tuple(r[c] for c in cols))
    return out


def collisions(wh: Warehouse) -> dict[str, tuple[int, int, int]]:
    """Per model: rows, distinct keys with `tenant`, distinct keys without it."""
    models = {m: cols for m, (_, cols) in STAGING.items()} | MART_KEYS
    statements = []
    for model, cols in models.items():
        key = ", ".join(cols)
        statements.append(
            f"SELECT (SELECT count(*) FROM {wh.schema}.{model}) AS n,"
            f" (SELECT count(*) FROM (SELECT DISTINCT tenant, {key} FROM {wh.schema}.{model})"
            f" AS k) AS with_tenant,"
            f" (SELECT count(*) FROM (SELECT DISTINCT {key} FROM {wh.schema}.{model}) AS k)"
            f" AS without_tenant"
        )
    return {
        model: (int(r[0]["n"]), int(r[0]["with_tenant"]), int(r[0]["without_tenant"]))
        for model, r in zip(models, wh.sql(*statements), strict=True)
    }


def check_round(wh: Warehouse, sandboxes: dict[str, Sandbox], rnd: int) -> dict[str, Any]:
    """Every staging model and mart equals the union of the tenants' truths, without key
    collisions; returns the rows per tenant (for the figures)."""
    got = read_staging(wh)
    open_got = read_open_grants(wh)
    problems = []
    counts: dict[str, dict[str, int]] = {}
    for tenant, sb in sandboxes.items():
        want = staging_truth(sb)
        for model in STAGING:
            have = got[model][tenant]
            counts.setdefault(model, {})[tenant] = len(have)
            if have != want[model]:
                problems.append(
                    f"{model} [{tenant}]: missing {sorted(want[model] - have, key=str)[:3]},"
                    f" extra {sorted(have - want[model], key=str)[:3]}"
                )
        open_want = grants_in_force(sb.tenant_truth())
        if open_got[tenant] != open_want:
            problems.append(
                f"auth0_access_history open [{tenant}]:"
                f" missing {sorted(open_want - open_got[tenant], key=str)[:3]},"
                f" extra {sorted(open_got[tenant] - open_want, key=str)[:3]}"
            )
        mart_want = marts_truth.expected(sb.truth(), sb.tenant_truth(), sb.logs_truth())
        q_ = marts_truth.sql(wh.schema, tenant)
        mart_got = marts_truth.landed(dict(zip(q_, wh.sql(*q_.values()), strict=True)))
        for mart, n, expected, verdict in marts_truth.compare(mart_got, mart_want):
            counts.setdefault(mart, {})[tenant] = n
            if verdict != "OK":
                problems.append(f"{mart} [{tenant}]: {n} rows vs {expected}: {verdict}")
    # The all-tenants monthly total: the tenants' monthly active users added up.
    (months,) = wh.sql(
        "SELECT CAST(month_start AS VARCHAR(10)) AS m, tenant, monthly_active_users AS n,"
        f" all_tenants_monthly_active_users AS total FROM {wh.schema}.auth0_monthly_active_users"
    )
    sums: dict[str, int] = {}
    for r in months:
        sums[r["m"]] = sums.get(r["m"], 0) + int(r["n"])
    wrong_totals = [r for r in months if int(r["total"]) != sums[r["m"]]]
    assert not wrong_totals, wrong_totals[:3]
    assert len({r["tenant"] for r in months}) == len(TENANTS)

    clash = collisions(wh)
    for model, (n, with_tenant, _) in clash.items():
        if n != with_tenant:
            problems.append(f"{model}: {n} rows, {with_tenant} distinct keys with tenant")
        if n != sum(counts[model].values()):  # a row of no tenant, or of another
            problems.append(f"{model}: {n} rows, {counts[model]} per tenant")
    for model, per in sorted(counts.items()):
        n, _, without = clash.get(model, (sum(per.values()), 0, 0))
        report(
            f"tenants {wh.kind} round {rnd}: {model} "
            + ", ".join(f"{t} {c}" for t, c in per.items())
            + f" rows ({n} in all; {n - without} keys shared by both tenants)"
        )
    assert not problems, f"{wh.kind} round {rnd}: " + "; ".join(problems[:8])
    check_report(wh, sandboxes, rnd)
    # Ids do collide without `tenant`, so the keys above prove something: the shared user
    # and role until round 2 deletes one of each twin (log stream ids are the same in every
    # sandbox, days in every tenant).
    shared = ["stg_auth0__log_streams", "auth0_daily_activity"]
    if rnd == 1:
        shared += ["stg_auth0__users", "stg_auth0__roles", "auth0_users", "auth0_user_roles"]
    # Both tenants' open intervals of the shared role (round 1) or of the shared user's roles
    # share their ids: only `tenant` tells them apart.
    twins = open_got["a"] & open_got["b"]
    if rnd == 1:
        assert any(k[2] == SHARED_ROLE for k in twins), sorted(twins, key=str)[:3]
    for model in shared:
        n, with_tenant, without = clash[model]
        assert with_tenant == n and without < n, (model, clash[model])
    return counts


def check_report(wh: Warehouse, sandboxes: dict[str, Sandbox], rnd: int) -> None:
    """The report over both tenants: each tenant's users in its row, the daily chart one
    bar per day and series, adding up the tenants' days."""
    out = wh.dbt_target.parent / f"report-{rnd}.html"
    fig = report_py.write_report(wh.kind, wh.target, out, wh.schema)
    users = {t["tenant"]: t["users"] for t in fig["tenants"]}
    assert users == {t: len(sb.truth()) for t, sb in sandboxes.items()}, users
    page = out.read_text()
    assert f"<h2>{len(TENANTS)} tenants</h2>" in page
    (days,) = wh.sql(
        "SELECT CAST(activity_date AS VARCHAR(10)) AS d, sum(logins) AS n"
        f" FROM {wh.schema}.auth0_daily_activity GROUP BY 1"
    )
    assert {r["label"]: r["logins"] for r in fig["daily"]} == {
        r["d"][:10]: int(r["n"]) for r in days
    }


def where_shared(wh: Warehouse) -> dict[str, set[str]]:
    """The tenants whose models hold the shared user, the shared role, and the shared
    role's members in auth0_user_roles."""
    s = wh.schema
    users, roles, members = wh.sql(
        f"SELECT tenant FROM {s}.auth0_users WHERE user_id = '{SHARED_USER}'",
        f"SELECT tenant FROM {s}.stg_auth0__roles WHERE role_id = '{SHARED_ROLE}'",
        f"SELECT DISTINCT tenant FROM {s}.auth0_user_roles WHERE role_id = '{SHARED_ROLE}'",
    )
    return {
        "user": {r["tenant"] for r in users},
        "role": {r["tenant"] for r in roles},
        "role members": {r["tenant"] for r in members},
    }


# -- fixtures -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sandboxes() -> Iterator[dict[str, Sandbox]]:
    with (
        Sandbox(sandbox_config("a", TENANTS["a"])) as a,
        Sandbox(sandbox_config("b", TENANTS["b"])) as b,
    ):
        for sb in (a, b):
            share(sb)
        yield {"a": a, "b": b}


@pytest.fixture(scope="module")
def pg_database(pg_uri: str) -> Iterator[str]:
    """The test server's database, without the schemas this test writes (before and
    after): both tenants' and the marts'."""
    if not (PLUGIN_VENVS / "loaders" / "target-postgres" / "venv").exists():
        pytest.skip("target-postgres not installed: run `make meltano`")
    drop = [f'DROP SCHEMA IF EXISTS "{s}" CASCADE' for s in (*PG_SCHEMAS, PG_MARTS)]
    query("postgres", pg_uri, *drop)
    try:
        yield pg_uri
    finally:
        query("postgres", pg_uri, *drop)


def warehouse(kind: str, workdir: Path, sandboxes: dict[str, Sandbox], target: str) -> Warehouse:
    need_meltano()
    need_dbt(kind)
    project = tenant_project(workdir, sandboxes)
    meltano = MeltanoRunner(workdir, sandboxes["a"].base_url, project=project)
    # Each tenant's extractor has its own domain and tenant (meltano.yml), nothing shared.
    for name in ("TAP_AUTH0_DOMAIN", "TAP_AUTH0_TENANT"):
        meltano.env.pop(name)
    dbt_target = dbt_paths(meltano, workdir, f"dbt-{kind}")
    if kind == "postgres":
        meltano.env["TAP_AUTH0_PG_URI"] = sqlalchemy_url(target)
        meltano.env["DBT_POSTGRES_SCHEMA"] = PG_MARTS
        return Warehouse(kind, target, PG_MARTS, meltano, dbt_target)
    meltano.env["TAP_AUTH0_DUCKDB_PATH"] = target
    meltano.env["DBT_DUCKDB_SCHEMA"] = "analytics"
    return Warehouse(kind, target, "analytics", meltano, dbt_target)


@pytest.fixture(scope="module")
def rounds(
    sandboxes: dict[str, Sandbox],
    pg_database: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[list[dict[str, Any]]]:
    """Both warehouses through both rounds; per round and warehouse what was checked."""
    houses = [
        warehouse(
            "duckdb", tmp_path_factory.mktemp("tenants-duckdb"), sandboxes,
            str(tmp_path_factory.mktemp("tenants-duckdb-db") / "tenants.duckdb"),
        ),
        warehouse("postgres", tmp_path_factory.mktemp("tenants-pg"), sandboxes, pg_database),
    ]  # fmt: skip
    out: list[dict[str, Any]] = []
    for wh in houses:
        wh.run()
        out.append({"round": 1, "kind": wh.kind, "counts": check_round(wh, sandboxes, 1),
                    "shared": where_shared(wh)})  # fmt: skip
    # Round 2: tenant A deletes the shared role, tenant B the shared user.
    Api(sandboxes["a"])("DELETE", f"/roles/{SHARED_ROLE}")
    Api(sandboxes["b"])("DELETE", f"/users/{q(SHARED_USER)}")
    for wh in houses:
        wh.run()
        out.append({"round": 2, "kind": wh.kind, "counts": check_round(wh, sandboxes, 2),
                    "shared": where_shared(wh)})  # fmt: skip
    yield out


def test_every_model_is_the_union_of_the_tenants_truths(rounds: list[dict[str, Any]]) -> None:
    """check_round asserted it per warehouse and round; all four happened."""
    assert [(r["round"], r["kind"]) for r in rounds] == [
        (1, "duckdb"), (1, "postgres"), (2, "duckdb"), (2, "postgres"),
    ]  # fmt: skip


def test_each_tenants_deletions_leave_the_other_alone(rounds: list[dict[str, Any]]) -> None:
    for r in rounds:
        both = {"a", "b"}
        if r["round"] == 1:
            want = {"user": both, "role": both, "role members": both}
        else:
            # A deleted the role (B's stays, with its members); B deleted the user (A's stays).
            want = {"user": {"a"}, "role": {"b"}, "role members": {"b"}}
        assert r["shared"] == want, (r["kind"], r["round"], r["shared"])
