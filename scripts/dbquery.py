#!/usr/bin/env python3
"""Run SQL against DuckDB or PostgreSQL and print the results as JSON.

Meant to be run with a loader plugin's own interpreter, which already has the
driver installed (the tap venv has neither duckdb nor psycopg):

    .meltano/loaders/target-duckdb/venv/bin/python scripts/dbquery.py duckdb FILE
    .meltano/loaders/target-postgres/venv/bin/python scripts/dbquery.py postgres URI

Standard input: a JSON list of SQL statements. Standard output: a JSON list with
one ``{"columns": [...], "rows": [[...], ...]}`` per statement (values that JSON
cannot hold, such as timestamps, are rendered with ``str``).
"""

from __future__ import annotations

import json
import sys


def _duckdb(target: str, statements: list[str]) -> list[dict]:
    import duckdb

    con = duckdb.connect(target, read_only=True)
    try:
        out = []
        for sql in statements:
            rel = con.execute(sql)
            cols = [d[0] for d in rel.description] if rel.description else []
            out.append({"columns": cols, "rows": [list(r) for r in rel.fetchall()]})
        return out
    finally:
        con.close()


def _postgres(target: str, statements: list[str]) -> list[dict]:
    import psycopg

    uri = target.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(uri, autocommit=True) as con:
        out = []
        for sql in statements:
            cur = con.execute(sql)
            cols = [d.name for d in cur.description] if cur.description else []
            rows = [list(r) for r in cur.fetchall()] if cur.description else []
            out.append({"columns": cols, "rows": rows})
        return out


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[1] not in ("duckdb", "postgres"):
        print(__doc__, file=sys.stderr)
        return 2
    statements = json.load(sys.stdin)
    runner = _duckdb if argv[1] == "duckdb" else _postgres
    json.dump(runner(argv[2], statements), sys.stdout, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
