"""The scheduled jobs in meltano.yml: `meltano schedule list` shows them; the hourly job (change
capture) and the weekly full export job, run as a scheduler would (`meltano run <job>`), each
carry users deleted in Auth0 to the warehouse and its marts."""

from __future__ import annotations

import json

import pytest
from auth0_sandbox import Sandbox

from tests.support.meltano import MeltanoRunner
from tests.support.postgres import sqlalchemy_url
from tests.support.warehouse import query


def test_schedule_list_shows_the_hourly_and_weekly_jobs(meltano: MeltanoRunner) -> None:
    listed = json.loads(meltano("schedule", "list", "--format=json").stdout)
    jobs = {s["name"]: s for s in listed["schedules"]["job"]}
    assert jobs["auth0-hourly"]["cron_interval"] == "0 * * * *"
    assert jobs["auth0-hourly"]["job"]["tasks"] == ["tap-auth0 target-postgres dbt-postgres:build"]
    assert jobs["auth0-weekly-export"]["cron_interval"] == "0 3 * * 0"
    assert jobs["auth0-weekly-export"]["job"]["tasks"] == [
        "tap-auth0--export target-postgres dbt-postgres:build"
    ]


@pytest.mark.parametrize(
    ("job", "mode"),
    [("auth0-weekly-export", "export (users_extraction=export)"), ("auth0-hourly", "search")],
)
def test_each_job_carries_deletes_to_tables_and_marts(
    sandbox: Sandbox, meltano: MeltanoRunner, pg_uri: str, pg_schema: str, job: str, mode: str
) -> None:
    """The export by ACTIVATE_VERSION over every user; the hourly run by change capture:
    the deletions are in the tenant log, each confirmed by Get a User (404), as tombstones."""
    marts = f"{pg_schema}_marts"
    meltano.env.update(
        {
            "TAP_AUTH0_PG_URI": sqlalchemy_url(pg_uri),
            "TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA": pg_schema,
            "TARGET_POSTGRES_HARD_DELETE": "true",
            "DBT_POSTGRES_SOURCE_SCHEMA": pg_schema,
            "DBT_POSTGRES_SCHEMA": marts,
            "DBT_POSTGRES_TARGET_PATH": str(meltano.workdir / "dbt-target"),
            "DBT_POSTGRES_LOG_PATH": str(meltano.workdir / "dbt-logs"),
        }
    )
    sandbox.configure(export_seconds=0.5)
    try:
        first = meltano("run", job)
        assert f"Extracting users by {mode}" in first.stdout + first.stderr
        truth = {u["user_id"] for u in sandbox.truth()}
        gone = sorted(truth)[:3]
        for uid in gone:
            assert sandbox.delete_user(uid)
        second = meltano("run", job)
        if job == "auth0-hourly":
            assert "Change capture: changes since the last run" in second.stdout + second.stderr
        users, mart = query(
            "postgres",
            pg_uri,
            f'SELECT user_id, _sdc_deleted_at FROM "{pg_schema}".users',
            f'SELECT user_id FROM "{marts}".auth0_users',
        )
        live = {r["user_id"] for r in users if r["_sdc_deleted_at"] is None}
        assert live == truth - set(gone)
        assert {r["user_id"] for r in mart} == truth - set(gone)
    finally:
        query("postgres", pg_uri, f'DROP SCHEMA IF EXISTS "{marts}" CASCADE')
