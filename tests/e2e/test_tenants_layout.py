"""meltano.yml's layout for several tenants: the `auth0-tenants` job runs `tap-auth0--us` and
`tap-auth0--eu` (inherited extractors, secrets in their own variables), each into its own
schema (its `load_schema`) with its own state, then one dbt build over both schemas
(`dbt-postgres--tenants`: marts with each tenant's rows); a tenant run on the other's state
stops in one line and writes nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from auth0_sandbox import Sandbox, SandboxConfig

from tests.support.meltano import CLIENT_ID, CLIENT_SECRET, MeltanoRunner, need_meltano
from tests.support.postgres import sqlalchemy_url
from tests.support.warehouse import query

# extractor suffix -> (tenant, seed): two tenants with different users
TENANTS = {"us": ("acme-us", 21), "eu": ("acme-eu", 22)}


@pytest.fixture
def boxes() -> Iterator[dict[str, Sandbox]]:
    with ExitStack() as stack:
        yield {
            suffix: stack.enter_context(
                Sandbox(
                    SandboxConfig(
                        users=200 + seed,
                        seed=seed,
                        tenant=tenant,
                        client_id=f"{CLIENT_ID}-{suffix}",
                        client_secret=f"{CLIENT_SECRET}-{suffix}",
                    )
                )
            )
            for suffix, (tenant, seed) in TENANTS.items()
        }


def test_the_tenants_job_loads_each_tenant_into_its_own_schema(
    boxes: dict[str, Sandbox], tmp_path: Path, pg_uri: str, pg_schema: str
) -> None:
    need_meltano()
    # The base extractor's settings point nowhere useful: each tenant must use its own.
    meltano = MeltanoRunner(tmp_path, "https://unused.us.auth0.com")
    meltano.env["TAP_AUTH0_PG_URI"] = sqlalchemy_url(pg_uri)
    schemas = {suffix: f"{pg_schema}_{suffix}" for suffix in TENANTS}
    marts = f"{pg_schema}_marts"
    meltano.env.update(
        {
            # The dbt step's tenants: the scratch schemas instead of auth0_acme_<suffix>.
            "DBT_POSTGRES__TENANTS_TENANTS": ",".join(schemas.values()),
            "DBT_POSTGRES_SCHEMA": marts,
            "DBT_POSTGRES_TARGET_PATH": str(tmp_path / "dbt-target"),
            "DBT_POSTGRES_LOG_PATH": str(tmp_path / "dbt-logs"),
        }
    )
    for suffix, sb in boxes.items():
        prefix = f"TAP_AUTH0__{suffix.upper()}_"
        meltano.env.update(
            {
                # What `meltano config set tap-auth0--us ...` writes to .env.
                f"{prefix}DOMAIN": sb.base_url,
                f"{prefix}TENANT": TENANTS[suffix][0],
                f"{prefix}CLIENT_ID": f"{CLIENT_ID}-{suffix}",
                f"{prefix}CLIENT_SECRET": f"{CLIENT_SECRET}-{suffix}",
                # A scratch schema instead of auth0_acme_<suffix>: the same extra.
                f"{prefix}_LOAD_SCHEMA": schemas[suffix],
            }
        )
    try:
        meltano("run", "auth0-tenants")
        for suffix, sb in boxes.items():
            (users,) = query("postgres", pg_uri, f'SELECT * FROM "{schemas[suffix]}".users')
            assert {u["user_id"] for u in users} == {u["user_id"] for u in sb.truth()}, suffix
            assert {u["tenant"] for u in users} == {TENANTS[suffix][0]}, suffix
            state = meltano.state_of(f"dev:tap-auth0--{suffix}-to-target-postgres")
            assert state["singer_state"]["tenant"] == TENANTS[suffix][0]
        # The job's dbt build: one set of marts, each tenant's users under its name.
        (per_tenant,) = query(
            "postgres",
            pg_uri,
            f'SELECT tenant, count(*) AS n FROM "{marts}".auth0_users GROUP BY tenant',
        )
        assert {r["tenant"]: int(r["n"]) for r in per_tenant} == {
            TENANTS[suffix][0]: len(sb.truth()) for suffix, sb in boxes.items()
        }

        # Two tenants on one state id: the EU tenant run with the US tenant's state.
        before = query("postgres", pg_uri, f'SELECT count(*) AS n FROM "{schemas["us"]}".users')
        proc = meltano(
            "el",
            "tap-auth0--eu",
            "target-postgres",
            "--state-id",
            "dev:tap-auth0--us-to-target-postgres",
            check=False,
        )
        assert proc.returncode != 0
        assert (
            "tap-auth0: error: The state belongs to tenant 'acme-us' while this run is tenant "
            "'acme-eu'" in proc.stdout + proc.stderr
        )
        assert "Traceback" not in proc.stdout + proc.stderr
        after = query("postgres", pg_uri, f'SELECT count(*) AS n FROM "{schemas["us"]}".users')
        assert after == before
    finally:
        for schema in (*schemas.values(), marts):
            query("postgres", pg_uri, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def test_the_tenants_job_is_scheduled(tmp_path: Path) -> None:
    need_meltano()
    meltano = MeltanoRunner(tmp_path, "https://unused.us.auth0.com")
    listed = json.loads(meltano("schedule", "list", "--format=json").stdout)
    jobs = {s["name"]: s for s in listed["schedules"]["job"]}
    assert jobs["auth0-tenants"]["job"]["tasks"] == [
        "tap-auth0--us target-postgres",
        "tap-auth0--eu target-postgres",
        "dbt-postgres--tenants:build",
    ]
