"""The README's "Against a real tenant" pipeline, as written: `meltano run tap-auth0
target-duckdb` with this project's `meltano.yml` settings and nothing else (only the
environment variables the README exports), then every table's row count against the
sandbox's truth.

target-duckdb 0.8.0 needs its `add_metadata_columns` (meltano.yml sets it): without it the
all-key `connection_clients` crashes the run, and the first row of every all-text table
(`roles`, `role_members`, ...) is lost.
"""

from __future__ import annotations

from typing import Any

from auth0_sandbox.truth import tenant_row_counts

from tests.support.meltano import MeltanoRunner
from tests.support.warehouse import query

SCHEMA = "auth0"
# Not selected by this project (a request per user each): no table.
OPT_IN = (
    "user_detail",
    "user_permissions",
    "user_authentication_methods",
    "user_sessions",
    "user_refresh_tokens",
)


def expected_counts(sandbox: Any) -> dict[str, int]:
    counts = tenant_row_counts(sandbox.tenant_truth())
    stats = sandbox.stats_truth()
    counts.update(
        users=len(sandbox.truth()),
        logs=len(sandbox.logs_truth()),
        stats_daily=len(stats["daily"]),
        stats_active_users=1,
    )
    return counts


def test_readme_pipeline_lands_every_selected_table(sandbox: Any, meltano: MeltanoRunner) -> None:
    sandbox.append_logs(300, late_fraction=0.0, seed=1)
    assert not any(k.startswith("TARGET_") for k in meltano.env), "project settings only"
    run = meltano("run", "tap-auth0", "target-duckdb")
    # What Meltano passes the tap (its settings, the capabilities' settings) is all known.
    assert "not a tap-auth0 setting" not in run.stdout + run.stderr
    expected = expected_counts(sandbox)
    assert min(expected.values()) > 0, expected  # the sandbox has rows for every table
    db = meltano.env["TAP_AUTH0_DUCKDB_PATH"]
    (tables,) = query(
        "duckdb",
        db,
        f"SELECT table_name FROM information_schema.tables WHERE table_schema = '{SCHEMA}'",
    )
    landed_tables = {r["table_name"] for r in tables}
    assert landed_tables == set(expected), (
        f"missing {sorted(set(expected) - landed_tables)}, "
        f"unexpected {sorted(landed_tables - set(expected))}"
    )
    assert not landed_tables & set(OPT_IN)
    names = sorted(expected)
    results = query("duckdb", db, *(f"SELECT count(*) AS n FROM {SCHEMA}.{t}" for t in names))
    landed = {name: rows[0]["n"] for name, rows in zip(names, results, strict=True)}
    assert landed == expected
