"""`logs`, `stats_daily` and `stats_active_users` through Meltano into DuckDB and PostgreSQL:
sandbox -> `meltano run tap-auth0 <loader>` (only these streams, `TAP_AUTH0__SELECT`) ->
tables equal to the sandbox's truth; then new events arrive (some late) and a second
`meltano run`, resumed from Meltano's saved state, leaves the tables equal to the truth again
(every event once).

Checked per loader: the `log_id` set and the row count (and no duplicate key), `type`,
`type_name`, `date` and `scope` (an array) of every event; `stats_daily` rows by date; one
`stats_active_users` row.
"""

from __future__ import annotations

import json
import time
import typing as t
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from auth0_sandbox import Sandbox, SandboxConfig

from tests.support.figures import report
from tests.support.meltano import (
    ACCESS_TOKEN,
    CLIENT_ID,
    CLIENT_SECRET,
    MeltanoRunner,
    need_meltano,
)
from tests.support.postgres import sqlalchemy_url
from tests.support.warehouse import js, query, ts

EVENTS, SEED = 5000, 41
STREAMS = ("logs", "stats_daily", "stats_active_users")
# Auth0's documented names for a few codes; codes it does not document have none.
NAMES = {
    "s": "Success Login",
    "ss": "Success Signup",
    "slo": "Success Logout",
    "f": "Failed Login",
    "fp": "Failed Login (Incorrect Password)",
    "seacft": "Success Exchange",
    "zz_new_code": None,
    "zz_passkey_future": None,
}
STATS_COLUMNS = ("logins", "signups", "leaked_passwords", "leaked_passwords_signup")


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    cfg = SandboxConfig(
        users=300,
        seed=SEED,
        access_token=ACCESS_TOKEN,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        logs=EVENTS,
    )
    with Sandbox(cfg) as sandbox:
        sandbox.append_logs(200, late_fraction=0.0, seed=1)  # today's traffic so far
        yield sandbox


def runner(sb: Sandbox, tmp_path: Path) -> MeltanoRunner:
    need_meltano()
    meltano = MeltanoRunner(tmp_path, sb.base_url)
    meltano.env["TAP_AUTH0__SELECT"] = json.dumps([f"{s}.*" for s in STREAMS])
    return meltano


def scope_list(value: t.Any) -> list[str] | None:
    """What Auth0 sent, as the warehouse should hold it: an array (a string split)."""
    if value is None:
        return None
    return value.split() if isinstance(value, str) else list(value)


def compare(kind: str, target: str, schema: str, sb: Sandbox, label: str) -> None:
    logs, daily, active, counts = query(
        kind,
        target,
        f'SELECT log_id, type, type_name, date, scope FROM "{schema}".logs',
        f'SELECT * FROM "{schema}".stats_daily',
        f'SELECT * FROM "{schema}".stats_active_users',
        f'SELECT count(*) AS n, count(DISTINCT log_id) AS distinct_ids FROM "{schema}".logs',
    )
    truth = sb.logs_truth()
    stats = sb.stats_truth()
    (count,) = counts
    by_id = {r["log_id"]: r for r in logs}
    want = {e["log_id"]: e for e in truth}
    missing, extra = set(want) - set(by_id), set(by_id) - set(want)
    wrong = []
    for lid, e in want.items():
        row = by_id.get(lid)
        if row is None:
            continue
        if row["type"] != e["type"] or ts(row["date"]) != ts(e["date"]):
            wrong.append((lid, "type/date", e["type"], e["date"], row["type"], row["date"]))
        if js(row["scope"]) != scope_list(e.get("scope")):
            wrong.append((lid, "scope", e.get("scope"), row["scope"]))
        if e["type"] in NAMES and row["type_name"] != NAMES[e["type"]]:
            wrong.append((lid, "type_name", e["type"], row["type_name"]))
    report(
        f"logs e2e {kind} {label}: {count['n']} rows ({count['distinct_ids']} distinct log_id)"
        f" vs {len(truth)} events in truth (missing {len(missing)}, extra {len(extra)},"
        f" value mismatches {len(wrong)}); stats_daily {len(daily)} rows vs"
        f" {len(stats['daily'])}; stats_active_users {len(active)} row(s)"
    )
    assert count["n"] == count["distinct_ids"] == len(truth), count
    assert not missing and not extra, (sorted(missing)[:3], sorted(extra)[:3])
    assert not wrong, wrong[:5]
    assert any(isinstance(js(r["scope"]), list) for r in logs)
    assert {e["type"] for e in truth} >= {"s", "fp", "seacft", "sertft", "seccft"}
    # stats_daily: one row per active day, by date, with the truth's counts.
    got = {ts(r["date"]): r for r in daily}
    assert len(got) == len(daily) == len(stats["daily"])
    for row in stats["daily"]:
        landed = got.get(ts(row["date"]))
        assert landed is not None, f"no stats_daily row for {row['date']}"
        assert {c: landed[c] for c in STATS_COLUMNS} == {c: row[c] for c in STATS_COLUMNS}
        assert ts(landed["updated_at"]) == ts(row["updated_at"])
    (one,) = active
    assert one["active_users"] == stats["active_users"] > 0
    assert str(one["date"])[:10] == datetime.now(timezone.utc).strftime("%Y-%m-%d")


def two_runs(sb: Sandbox, meltano: MeltanoRunner, loader: str, kind: str, target: str, schema: str):
    started = time.monotonic()
    meltano("run", "tap-auth0", loader)
    first = time.monotonic() - started
    compare(kind, target, schema, sb, f"run 1 ({first:.1f}s)")
    sb.append_logs(300, late_fraction=0.2, seed=7)
    started = time.monotonic()
    meltano("run", "tap-auth0", loader)
    second = time.monotonic() - started
    compare(kind, target, schema, sb, f"run 2 after 300 new events, 20% late ({second:.1f}s)")


def test_logs_and_stats_land_in_duckdb(sb: Sandbox, tmp_path: Path) -> None:
    meltano = runner(sb, tmp_path)
    two_runs(sb, meltano, "target-duckdb", "duckdb", meltano.env["TAP_AUTH0_DUCKDB_PATH"], "auth0")


def test_logs_and_stats_land_in_postgres(
    sb: Sandbox, tmp_path: Path, pg_uri: str, pg_schema: str
) -> None:
    meltano = runner(sb, tmp_path)
    meltano.env["TAP_AUTH0_PG_URI"] = sqlalchemy_url(pg_uri)
    meltano.env["TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA"] = pg_schema
    two_runs(sb, meltano, "target-postgres", "postgres", pg_uri, pg_schema)
