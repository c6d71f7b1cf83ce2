"""What the loaders wrote: read with each loader plugin's own driver, compared with the
sandbox's truth."""

from __future__ import annotations

import json
import subprocess
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from tests.support.figures import report
from tests.support.meltano import LOADER_PY
from tests.support.paths import ROOT

# Run with a loader plugin's interpreter (it has the driver; the tap venv has neither).
DBQUERY = ROOT / "scripts" / "dbquery.py"

SCALARS = (
    "email",
    "email_verified",
    "name",
    "nickname",
    "given_name",
    "family_name",
    "logins_count",
    "blocked",
    "last_ip",
)
TIMESTAMPS = ("created_at", "updated_at", "last_login")
JSON_FIELDS = ("user_metadata", "app_metadata")


def query(kind: str, target: str, *sql: str) -> list[list[dict[str, Any]]]:
    """Rows (as dicts) per statement, read with the loader plugin's own driver."""
    proc = subprocess.run(
        [str(LOADER_PY[kind]), str(DBQUERY), kind, target],
        input=json.dumps(list(sql)),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return [
        [dict(zip(r["columns"], row, strict=True)) for row in r["rows"]]
        for r in json.loads(proc.stdout)
    ]


def ts(value: Any) -> datetime | None:
    """ISO string (Z/offset/naive-UTC, 'T' or ' ') -> aware UTC datetime, ms precision."""
    if value in (None, ""):
        return None
    dt = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    dt = dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt.astimezone(timezone.utc)
    return dt.replace(microsecond=dt.microsecond // 1000 * 1000)


def js(value: Any) -> Any:
    """JSON column value (text in DuckDB, decoded in PostgreSQL) -> Python object."""
    return json.loads(value) if isinstance(value, str) else value


def assert_matches_truth(rows: list[dict[str, Any]], truth: list[dict], table: str) -> None:
    """One row per sandbox user, with the sandbox's values."""
    ids = [r["user_id"] for r in rows]
    assert len(ids) == len(set(ids)), f"{table}: duplicate user_id rows"
    by_id = {r["user_id"]: r for r in rows}
    truth_ids = {u["user_id"] for u in truth}
    assert set(by_id) == truth_ids, (
        f"{table}: {len(truth_ids - set(by_id))} users missing "
        f"(e.g. {sorted(truth_ids - set(by_id))[:3]}), "
        f"{len(set(by_id) - truth_ids)} unexpected"
    )
    mismatches = []
    for u in truth:
        row = by_id[u["user_id"]]
        for f in SCALARS:
            if row.get(f) != u.get(f):
                mismatches.append((u["user_id"], f, u.get(f), row.get(f)))
        for f in TIMESTAMPS:
            if ts(row.get(f)) != ts(u.get(f)):
                mismatches.append((u["user_id"], f, u.get(f), row.get(f)))
        for f in JSON_FIELDS:
            if (js(row.get(f)) or None) != (u.get(f) or None):
                mismatches.append((u["user_id"], f, u.get(f), row.get(f)))
        conns = [i.get("connection") for i in js(row.get("identities")) or []]
        if conns != [i.get("connection") for i in u.get("identities", [])]:
            mismatches.append((u["user_id"], "identities", u.get("identities"), conns))
    assert not mismatches, f"{table}: {len(mismatches)} value mismatches, e.g. {mismatches[:5]}"


def assert_tables_equal(
    tables: dict[str, list[dict[str, Any]]],
    want: dict[str, dict[tuple, dict[str, Any]]],
    keys: dict[str, tuple[str, ...]],
    label: str,
    *,
    timestamps: frozenset[str] = frozenset(),
    per_user: frozenset[str] = frozenset(),
) -> None:
    """Every table holds exactly the truth's keys (once each) with the truth's values
    (JSON columns decoded, `timestamps` compared as instants); one figures line per table.
    For `per_user` tables the line also counts the users (the keys' first column)."""
    problems = []
    for table, cols in keys.items():
        rows = tables[table]
        by_key: dict[tuple, dict[str, Any]] = {}
        dupes = 0
        for row in rows:
            key = tuple(row[c] for c in cols)
            dupes += key in by_key
            by_key[key] = row
        truth = want[table]
        missing, extra = set(truth) - set(by_key), set(by_key) - set(truth)
        wrong = []
        for key, values in truth.items():
            if key not in by_key:
                continue
            for col, value in values.items():
                got = by_key[key].get(col)
                if isinstance(value, dict | list):
                    got = js(got)
                elif col in timestamps:
                    got, value = ts(got), ts(value)
                if got != value:
                    wrong.append((key, col, value, got))
        users = f" ({len({k[0] for k in truth})} users)" if table in per_user else ""
        report(
            f"{label}: {table} {len(rows)} rows landed vs {len(truth)} truth{users}"
            f" (missing {len(missing)}, extra {len(extra)}, duplicate keys {dupes},"
            f" value mismatches {len(wrong)})"
        )
        if missing or extra or dupes or wrong:
            problems.append(
                f"{table}: missing {sorted(missing)[:3]}, extra {sorted(extra)[:3]},"
                f" {dupes} duplicate keys, mismatches {wrong[:3]}"
            )
    assert not problems, f"{label}: " + "; ".join(problems)


class BuiltMarts:
    """What the dbt checks read from a warehouse a test loaded and built: its marts schema,
    dbt's run results, and SQL against it. Mixed into a test's dataclass that has `kind`,
    `target`, `marts` and `dbt_target`."""

    kind: str
    target: str
    marts: str
    dbt_target: Path

    @property
    def schema(self) -> str:  # what test_dbt_models' helpers read
        return self.marts

    @property
    def run_results(self) -> dict[str, Any]:
        return json.loads((self.dbt_target / "run_results.json").read_text())

    def sql(self, *statements: str) -> list[list[dict[str, Any]]]:
        return query(self.kind, self.target, *statements)
