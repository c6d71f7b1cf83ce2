"""The dbt models (transform/) on data landed by the real pipeline, on both warehouses:
sandbox (users, roles, organizations, 3,000 log events) -> tap-auth0 -> Meltano ->
target-duckdb / target-postgres -> `dbt-duckdb:build` / `dbt-postgres:build` in the same
`meltano run`.

- Every dbt test passes (none warns), on both warehouses. DuckDB runs twice: the incremental
  run (a new user, new role members, new log events) writes into the file dbt wrote.
- Each mart's rows and figures equal what the sandbox's truth implies (scripts/marts_truth.py:
  the same definitions, computed in Python from the truth).
- DuckDB extracts every stream (Meltano's default selection includes the opt-in per-user
  streams), PostgreSQL leaves the opt-in streams out: there `user_authentication_methods` does
  not exist, the models still build and `is_mfa_enrolled` is null.
- The HTML report (scripts/report.py) is self-contained and its figures equal the marts',
  the admin actions per day and actor and the access changes of the last 7 days included.
"""

from __future__ import annotations

import importlib.util
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from auth0_sandbox import Sandbox, SandboxConfig

from tests.support import postgres
from tests.support.figures import report
from tests.support.meltano import (
    ACCESS_TOKEN,
    CLIENT_ID,
    CLIENT_SECRET,
    PLUGIN_VENVS,
    MeltanoRunner,
    need_meltano,
)
from tests.support.paths import ROOT
from tests.support.warehouse import query

USERS, SEED, LOGS = 1000, 5, 3000
MARTS_SCHEMA = "analytics"
OPT_IN = ("user_permissions", "user_authentication_methods", "user_sessions", "user_refresh_tokens")
STREAMS = (
    "users", "user_detail", "roles", "role_permissions", "role_members", "organizations",
    "organization_members", "organization_member_roles", "organization_connections",
    "organization_invitations", "clients", "client_grants", "grants", "resource_servers",
    "connections", "connection_clients", "actions", "log_streams", "logs", "stats_daily",
    "stats_active_users",
)  # fmt: skip
MIN_DBT_TESTS = 100


def _load(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


marts_truth = _load("marts_truth")
report_py = _load("report")


@dataclass
class Built:
    kind: str  # duckdb | postgres
    target: str  # DuckDB file or PostgreSQL URI
    schema: str  # schema of the marts
    run_results: dict[str, Any]
    truth: dict[str, Any]  # marts_truth.expected(...)
    seconds: float
    workdir: Path
    dbt_target: Path

    def sql(self, *statements: str) -> list[list[dict[str, Any]]]:
        return query(self.kind, self.target, *statements)


def need_dbt(kind: str) -> None:
    if not (PLUGIN_VENVS / "utilities" / f"dbt-{kind}" / "venv" / "bin" / "dbt").exists():
        need_meltano()
        pytest.fail(f"dbt-{kind} not installed: run `make meltano` (make test does)")


def sandbox_config() -> SandboxConfig:
    return SandboxConfig(
        users=USERS,
        seed=SEED,
        access_token=ACCESS_TOKEN,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        logs=LOGS,
    )


def dbt_paths(meltano: MeltanoRunner, workdir: Path, utility: str) -> Path:
    """This run's dbt target and log directories (run_results.json), not the shared ones."""
    target = workdir / "dbt-target"
    prefix = utility.upper().replace("-", "_")
    meltano.env[f"{prefix}_TARGET_PATH"] = str(target)
    meltano.env[f"{prefix}_LOG_PATH"] = str(workdir / "dbt-logs")
    return target


def build(sb: Sandbox, meltano: MeltanoRunner, loader: str, utility: str, **kw: Any) -> Built:
    started = time.monotonic()
    meltano("run", "--full-refresh", "tap-auth0", loader, f"{utility}:build")
    seconds = time.monotonic() - started
    results = json.loads((kw["dbt_target"] / "run_results.json").read_text())
    truth = marts_truth.expected(
        sb.truth(), sb.tenant_truth(), sb.logs_truth(), mfa_extracted=kw["mfa"]
    )
    return Built(
        kw["kind"], kw["target"], kw["schema"], results, truth, seconds, meltano.workdir,
        kw["dbt_target"],
    )  # fmt: skip


@pytest.fixture(scope="module")
def duck(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    need_meltano()
    need_dbt("duckdb")
    workdir = tmp_path_factory.mktemp("dbt-duckdb")
    with Sandbox(sandbox_config()) as sb:
        meltano = MeltanoRunner(workdir, sb.base_url)
        # Every stream, the opt-in per-user ones too (meltano.yml leaves them out): the MFA
        # columns are checked here, and left null on PostgreSQL.
        meltano.env["TAP_AUTH0__SELECT"] = json.dumps(["*.*"])
        target = dbt_paths(meltano, workdir, "dbt-duckdb")
        db = str(workdir / "e2e.duckdb")  # TAP_AUTH0_DUCKDB_PATH: the loader's and dbt's file
        first = build(
            sb, meltano, "target-duckdb", "dbt-duckdb",
            kind="duckdb", target=db, schema=MARTS_SCHEMA, dbt_target=target, mfa=True,
        )  # fmt: skip
        check_build(first)
        # Run 2, incremental, into the file dbt has just written (duckdb versions must agree):
        # a new user, new direct role members, new log events.
        sb.create_user(email="dbt.new@example.com", connection="Username-Password-Authentication")
        role = sb.tenant_truth()["roles"][0]["id"]
        sb.add_role_users(role, [u["user_id"] for u in sb.truth()[-5:]])
        sb.append_logs(300, seed=9)
        started = time.monotonic()
        meltano("run", "tap-auth0", "target-duckdb", "dbt-duckdb:build")
        first.seconds = time.monotonic() - started
        first.run_results = json.loads((target / "run_results.json").read_text())
        first.truth = marts_truth.expected(
            sb.truth(), sb.tenant_truth(), sb.logs_truth(), mfa_extracted=True
        )
        yield first


@pytest.fixture(scope="module")
def pg(pg_uri: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    need_meltano()
    need_dbt("postgres")
    workdir = tmp_path_factory.mktemp("dbt-postgres")
    with Sandbox(sandbox_config()) as sb:
        meltano = MeltanoRunner(workdir, sb.base_url)
        target = dbt_paths(meltano, workdir, "dbt-postgres")
        # Everything but the opt-in per-user streams: their tables never exist here.
        meltano.env["TAP_AUTH0__SELECT"] = json.dumps([f"{s}.*" for s in STREAMS])
        with postgres.meltano_schemas(meltano, pg_uri) as (_, marts):
            yield build(
                sb, meltano, "target-postgres", "dbt-postgres",
                kind="postgres", target=pg_uri, schema=marts, dbt_target=target, mfa=False,
            )  # fmt: skip


def landed(built: Built) -> dict[str, Any]:
    q = marts_truth.sql(built.schema)
    return marts_truth.landed(dict(zip(q, built.sql(*q.values()), strict=True)))


def check_build(built: Built) -> None:
    results = built.run_results["results"]
    tests = [r for r in results if r["unique_id"].startswith("test.")]
    models = [r for r in results if r["unique_id"].startswith("model.")]
    bad = [(r["unique_id"], r["status"], r.get("message")) for r in results]
    bad = [b for b in bad if b[1] not in ("success", "pass")]
    report(
        f"dbt {built.kind}: {len(models)} models, {len(tests)} tests, {len(bad)} not passing;"
        f" meltano run (tap, loader, dbt build) {built.seconds:.1f}s"
    )
    assert not bad, bad[:5]
    assert len(tests) >= MIN_DBT_TESTS
    # Every model and seed has at least one test.
    nodes = json.loads((built.dbt_target / "manifest.json").read_text())["nodes"]
    covered = {
        dep
        for node in nodes.values()
        if node["resource_type"] == "test"
        for dep in node["depends_on"]["nodes"]
    }
    untested = [
        n for n, node in nodes.items() if node["resource_type"] in ("model", "seed")
        and n not in covered
    ]  # fmt: skip
    assert not untested, untested


def check_truth(built: Built) -> None:
    got = landed(built)
    rows = marts_truth.compare(got, built.truth)
    for mart, n, want, figures in rows:
        report(f"dbt {built.kind}: {mart} {n} rows vs {want} implied by the truth ({figures})")
    assert all(r[3] == "OK" for r in rows), rows


def test_duckdb_dbt_build_passes(duck: Built) -> None:
    """Run 1 passed in the fixture; this is run 2's build."""
    check_build(duck)


def test_duckdb_marts_equal_sandbox_truth(duck: Built) -> None:
    check_truth(duck)
    assert duck.truth["auth0_users"]["mfa_enrolled"], "sandbox has MFA users"


def test_postgres_dbt_build_passes(pg: Built) -> None:
    check_build(pg)


def test_postgres_marts_equal_sandbox_truth_without_opt_in_streams(pg: Built) -> None:
    (tables,) = pg.sql(
        "SELECT table_name FROM information_schema.tables"
        f" WHERE table_schema = '{pg.schema.removesuffix('_marts')}'"
    )
    assert "user_authentication_methods" not in {t["table_name"] for t in tables}
    check_truth(pg)
    (mfa,) = pg.sql(f"SELECT count(is_mfa_enrolled) AS n FROM {pg.schema}.auth0_users")
    assert mfa[0]["n"] == 0, "is_mfa_enrolled is null when the stream was not extracted"


# -- the report ---------------------------------------------------------------------------
class Bars(HTMLParser):
    """Every element with data-chart: (chart, label, series) -> value; and what could load
    anything from elsewhere."""

    def __init__(self) -> None:
        super().__init__()
        self.bars: dict[tuple[str, str, str], int] = {}
        self.external: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag in ("script", "link", "img", "iframe", "object", "embed"):
            self.external.append(tag)
        for k in ("src", "href"):
            if a.get(k):
                self.external.append(f"{tag} {k}={a[k]}")
        if "data-chart" in a:
            key = (a["data-chart"] or "", a["data-label"] or "", a["data-series"] or "")
            assert key not in self.bars, key
            self.bars[key] = int(a["data-value"] or 0)


def check_report(built: Any, out: Path) -> None:
    """Write the report from ``built``'s marts and check every figure on it against the
    marts, read here with SQL of the test's own (the recent window counted in Python)."""
    now = datetime.now(timezone.utc)
    report_py.write_report(built.kind, built.target, out, built.schema, now)
    html = out.read_text()
    parser = Bars()
    parser.feed(html)
    assert not parser.external, parser.external
    assert "url(" not in html and "@import" not in html
    s = built.schema
    daily, conns, roles, mfa, admin, changes = built.sql(
        f"SELECT CAST(activity_date AS VARCHAR(10)) AS d, logins, signups, failed_logins"
        f" FROM {s}.auth0_daily_activity",
        f"SELECT primary_connection AS k, count(*) AS n FROM {s}.auth0_users GROUP BY 1",
        f"SELECT role_name AS k, count(DISTINCT user_id) AS n FROM {s}.auth0_user_roles GROUP BY 1",
        f"SELECT is_mfa_enrolled AS k, count(*) AS n FROM {s}.auth0_users GROUP BY 1",
        f"SELECT CAST(event_at AS VARCHAR(30)) AS t, actor_client_id, actor_client_name,"
        f" actor_user_id, actor_user_name, is_succeeded FROM {s}.auth0_admin_activity",
        f"SELECT log_id, position, CAST(event_at AS VARCHAR(30)) AS t, change_type, access_kind"
        f" FROM {s}.stg_auth0__access_changes",
    )
    want: dict[tuple[str, str, str], int] = {}
    for r in daily:
        for series in ("logins", "signups", "failed_logins"):
            want[("daily", r["d"][:10], series)] = int(r[series])
    for r in conns:
        want[("connections", r["k"] or "(none)", "users")] = int(r["n"])
    for r in roles:
        want[("roles", r["k"], "users")] = int(r["n"])
    labels = {True: "enrolled", False: "not enrolled", None: "unknown (stream not extracted)"}
    for r in mfa:
        want[("mfa", labels[r["k"]], "users")] = int(r["n"])
    # Admin actions per UTC day and actor (client, dashboard user).
    per_actor: dict[tuple[str, Any, Any], list[dict[str, Any]]] = {}
    for r in admin:
        per_actor.setdefault((r["t"][:10], r["actor_client_id"], r["actor_user_id"]), []).append(r)
    for (day, client, user), rs in per_actor.items():
        names = [x["actor_client_name"] for x in rs if x["actor_client_name"]]
        users = [x["actor_user_name"] for x in rs if x["actor_user_name"]]
        who = report_py.actor(max(names, default=None), client, max(users, default=None), user)
        want[("admin", f"{day} {who}", "actions")] = len(rs)
        failed = sum(1 for x in rs if x["is_succeeded"] not in (True, 1, "true", "t"))
        want[("admin", f"{day} {who}", "failed")] = failed
    # Access granted and revoked from 7 days before `now`: per day and kind, then each one.
    start = marts_truth.instant((now - timedelta(days=7)).replace(microsecond=0).isoformat())
    recent = [r for r in changes if marts_truth.instant(r["t"]) >= start]
    verb = {"grant": "granted", "revoke": "revoked"}
    for r in recent:
        for v in verb.values():
            want.setdefault(("access", f"{r['t'][:10]} {r['access_kind']}", v), 0)
        want[("access", f"{r['t'][:10]} {r['access_kind']}", verb[r["change_type"]])] += 1
        want[("access_change", f"{r['log_id']}#{r['position']}", verb[r["change_type"]])] = 1
    got = {k: v for k, v in parser.bars.items() if k[0] != "apps"}
    assert got == want, (
        sorted(set(got.items()) - set(want.items()))[:5],
        sorted(set(want.items()) - set(got.items()))[:5],
    )
    admin_days = {k[1][:10] for k in want if k[0] == "admin"}
    report(
        f"report {built.kind}: {len(html):,} bytes, {len(parser.bars)} figures, all equal to the"
        f" marts ({len(daily)} days, {len(conns)} connections, {len(roles)} roles, MFA"
        f" {len(mfa)}; admin actions {len(admin)} over {len(per_actor)} day x actor rows on"
        f" {len(admin_days)} days; access changes in the last 7 days {len(recent)} of"
        f" {len(changes)})"
    )
    assert admin and recent, "the report's admin and access sections have something to show"


def test_report_figures_equal_marts(duck: Built) -> None:
    check_report(duck, duck.workdir / "auth0-report.html")
