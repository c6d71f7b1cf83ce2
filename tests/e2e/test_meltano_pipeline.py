"""Sandbox -> tap-auth0 -> Meltano -> target-duckdb / target-postgres / target-jsonl.

Each loader test does what a user does: a full ``meltano run``, then changes in the
tenant, then a second ``meltano run`` that Meltano resumes from its saved state. It checks
that every sandbox user landed with the right values, and that the second run wrote
exactly the changed and new users - plus the unchanged users the tap deliberately
re-reads from its look-back window (``lookback_seconds``, 300 s) below the bookmark.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from tests.support.meltano import (
    LOOKBACK_SECONDS,
    SANDBOX_TENANT,
    USERS,
    MeltanoRunner,
    need_meltano,
    project_select,
)
from tests.support.paths import ROOT
from tests.support.postgres import sqlalchemy_url
from tests.support.warehouse import assert_matches_truth, js, query, ts


def change_tenant(sandbox: Any, bookmark: datetime) -> tuple[set[str], set[str], set[str]]:
    """Update 5 users, create 2. Returns (changed+new ids, look-back ids, all expected).

    The tap restarts from ``bookmark - lookback_seconds``: unchanged users updated in that
    window are re-read on purpose (late-indexed users), so they count as expected too.
    """
    before = sandbox.truth()
    since = bookmark - timedelta(seconds=LOOKBACK_SECONDS)
    window = {u["user_id"] for u in before if ts(u["updated_at"]) >= since}
    ids = [u["user_id"] for u in before]
    touched = [ids[i] for i in (0, 7, 1000, 2222, len(ids) - 1)]
    for n, uid in enumerate(touched):
        sandbox.update_user(uid, name=f"E2E Renamed {n}", user_metadata={"e2e": n})
    sandbox.update_user(touched[0], email="e2e.changed@example.com")
    created = [
        sandbox.create_user(
            email=f"e2e.new{n}@example.com",
            name=f"E2E New {n}",
            connection="Username-Password-Authentication",
        )["user_id"]
        for n in range(2)
    ]
    changed = set(touched) | set(created)
    return changed, window - changed, changed | window


def rewritten(before: list[dict], after: list[dict]) -> set[str]:
    """Users whose row is new or got a new _sdc_batched_at in the second run."""
    old = {r["user_id"]: str(r["_sdc_batched_at"]) for r in before}
    return {r["user_id"] for r in after if old.get(r["user_id"]) != str(r["_sdc_batched_at"])}


def bookmark(meltano: MeltanoRunner, loader: str) -> Any:
    state = meltano.state(loader)
    return ts(state["singer_state"]["bookmarks"]["users"]["replication_key_value"])


def full_then_incremental(
    sandbox: Any,
    meltano: MeltanoRunner,
    loader: str,
    kind: str,
    target: str,
    schema: str,
    tables: tuple[str, ...] = ("users",),
) -> None:
    sql = [f'SELECT * FROM "{schema}".{table}' for table in tables]

    # run 1: everything
    meltano("run", "tap-auth0", loader)
    truth = sandbox.truth()
    assert len(truth) == USERS
    first = query(kind, target, *sql)
    for table, rows in zip(tables, first, strict=True):
        assert_matches_truth(rows, truth, f"{schema}.{table}")
        assert {r["tenant"] for r in rows} == {SANDBOX_TENANT}, f"{schema}.{table}: tenant"
    # Meltano keeps the tenant the tap wrote into its STATE, for the next run's check.
    assert meltano.state(loader)["singer_state"]["tenant"] == SANDBOX_TENANT
    bookmark1 = bookmark(meltano, loader)
    assert bookmark1 >= max(ts(u["updated_at"]) for u in truth), "bookmark behind the data"

    # the tenant changes; run 2 resumes from Meltano's state
    changed, window, expected = change_tenant(sandbox, bookmark1)
    meltano("run", "tap-auth0", loader)
    truth = sandbox.truth()
    assert len(truth) == USERS + 2
    second = query(kind, target, *sql)
    for table, before, after in zip(tables, first, second, strict=True):
        assert_matches_truth(after, truth, f"{schema}.{table}")
        got = rewritten(before, after)
        assert got == expected, (
            f"{schema}.{table}: run 2 wrote {len(got)} users, expected the {len(changed)} "
            f"changed/new + {len(window)} look-back; missing {sorted(expected - got)[:5]}, "
            f"unexpected {sorted(got - expected)[:5]}"
        )
    assert bookmark(meltano, loader) >= max(ts(u["updated_at"]) for u in truth)


def test_duckdb_full_then_incremental(sandbox: Any, meltano: MeltanoRunner) -> None:
    """The README's pipeline with the project's settings (no `user_detail`)."""
    full_then_incremental(
        sandbox, meltano, "target-duckdb", "duckdb", meltano.env["TAP_AUTH0_DUCKDB_PATH"], "auth0"
    )


def test_postgres_full_then_incremental(
    sandbox: Any, meltano: MeltanoRunner, pg_uri: str, pg_schema: str
) -> None:
    meltano.env["TAP_AUTH0_PG_URI"] = sqlalchemy_url(pg_uri)
    meltano.env["TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA"] = pg_schema
    # The project's selection plus the opt-in `user_detail`, incremental like `users`.
    meltano.env["TAP_AUTH0__SELECT"] = project_select("user_detail")
    full_then_incremental(
        sandbox, meltano, "target-postgres", "postgres", pg_uri, pg_schema,
        tables=("users", "user_detail"),
    )  # fmt: skip


def test_jsonl_full(sandbox: Any, meltano: MeltanoRunner) -> None:
    meltano("run", "tap-auth0", "target-jsonl")
    out = Path(meltano.env["TAP_AUTH0_JSONL_DIR"])
    truth_ids = {u["user_id"] for u in sandbox.truth()}
    ids = [js(line)["user_id"] for line in (out / "users.jsonl").read_text().splitlines()]
    assert len(ids) == len(truth_ids), f"users.jsonl: {len(ids)} lines"
    assert set(ids) == truth_ids
    # `user_detail` is opt-in (a Get a User per user): the project's run makes none.
    assert not (out / "user_detail.jsonl").exists()
    assert not [e for e in sandbox.stats()["by_endpoint"] if e.endswith("/users/{id}")]


def test_meltano_config_test(sandbox: Any, meltano: MeltanoRunner) -> None:
    ok = meltano("config", "test", "tap-auth0")
    assert "Plugin configuration is valid" in ok.stdout + ok.stderr
    meltano.env["TAP_AUTH0_CLIENT_SECRET"] = "wrong"
    bad = meltano("config", "test", "tap-auth0", check=False)
    assert bad.returncode != 0
    assert "wrong" not in bad.stdout + bad.stderr, "client secret leaked into the output"


def test_bad_credentials_fail_the_run(sandbox: Any, meltano: MeltanoRunner) -> None:
    meltano.env["TAP_AUTH0_CLIENT_SECRET"] = "wrong"
    proc = meltano("run", "tap-auth0", "target-duckdb", check=False)
    assert proc.returncode != 0
    assert "tap-auth0" in proc.stdout + proc.stderr


def test_demo_script(tmp_path: Path) -> None:
    """`make demo`'s script, on a small tenant, in a scratch output dir and systemdb."""
    need_meltano()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MELTANO_")}
    env["MELTANO_DATABASE_URI"] = f"sqlite:///{tmp_path / 'meltano.db'}"
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "demo.py"),
            "--users",
            "300",
            "--output",
            str(tmp_path / "out"),
        ],
        env=env,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert "MISMATCH" not in out and "UNEXPECTED" not in out, out[-4000:]
    assert "OK: run 2 extracted the 7 changed/new users" in out, out[-4000:]
    assert (tmp_path / "out" / "demo.duckdb").exists()
