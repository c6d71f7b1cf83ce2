"""Export mode through Meltano into PostgreSQL: users deleted in Auth0 leave the warehouse.

A complete export ends with ACTIVATE_VERSION; target-postgres then hard-deletes (or, by
default, soft-deletes with `_sdc_deleted_at`) every row an older version wrote.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.meltano import MeltanoRunner, project_select
from tests.support.postgres import sqlalchemy_url
from tests.support.warehouse import query


@pytest.mark.parametrize("hard_delete", [True, False], ids=["hard", "soft"])
def test_export_deletes_reach_postgres(
    sandbox: Any, meltano: MeltanoRunner, pg_uri: str, pg_schema: str, hard_delete: bool
) -> None:
    meltano.env["TAP_AUTH0_PG_URI"] = sqlalchemy_url(pg_uri)
    meltano.env["TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA"] = pg_schema
    meltano.env["TARGET_POSTGRES_HARD_DELETE"] = "true" if hard_delete else "false"
    meltano.env["TAP_AUTH0_USERS_EXTRACTION"] = "export"
    meltano.env["TAP_AUTH0__SELECT"] = project_select("user_detail")
    sandbox.configure(export_seconds=0.5)
    users_sql = f'SELECT * FROM "{pg_schema}".users'
    detail_sql = f'SELECT * FROM "{pg_schema}".user_detail'

    meltano("run", "tap-auth0", "target-postgres")
    users1, detail1 = query("postgres", pg_uri, users_sql, detail_sql)
    truth = {u["user_id"] for u in sandbox.truth()}
    assert {r["user_id"] for r in users1} == truth
    assert {r["user_id"] for r in detail1} == truth

    gone = sorted(truth)[:3]
    for uid in gone:
        assert sandbox.delete_user(uid)
    meltano("run", "tap-auth0", "target-postgres")
    users2, detail2 = query("postgres", pg_uri, users_sql, detail_sql)
    for table, rows in (("users", users2), ("user_detail", detail2)):
        if hard_delete:
            assert {r["user_id"] for r in rows} == truth - set(gone), table
        else:
            live = {r["user_id"] for r in rows if r.get("_sdc_deleted_at") is None}
            dead = {r["user_id"] for r in rows if r.get("_sdc_deleted_at") is not None}
            assert live == truth - set(gone), table
            assert dead == set(gone), table
