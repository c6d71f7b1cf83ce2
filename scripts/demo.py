#!/usr/bin/env python3
"""End-to-end demo: local Auth0 sandbox -> tap-auth0 -> Meltano -> DuckDB.

1. starts ``tap-auth0-sandbox`` (a local Auth0-compatible tenant) on a free port,
2. ``meltano run tap-auth0 target-duckdb dbt-duckdb:build`` (full extraction,
   client-credentials auth, then the dbt models in transform/ and their tests),
3. prints what landed and compares it with the sandbox's ground truth,
4. updates a few users and creates two through the sandbox admin API,
5. runs again: Meltano hands the tap its saved state, so only changed/new users
   (plus the tap's look-back window) are extracted, and dbt rebuilds the marts,
6. prints a few rows of each mart and each mart's figures against the sandbox's truth,
   writes ``output/auth0-report.html`` (scripts/report.py), prints the elapsed time, and
   stops the sandbox.

Run with the tap venv's Python (``make demo`` does): Meltano is called from
``.venv-meltano`` (``make meltano`` installs it and the plugins).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path

from auth0_sandbox.truth import tenant_row_counts

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import marts_truth  # noqa: E402
import report  # noqa: E402

MELTANO = ROOT / ".venv-meltano" / "bin" / "meltano"
DUCK_PY = ROOT / ".meltano" / "loaders" / "target-duckdb" / "venv" / "bin" / "python"
DBQUERY = ROOT / "scripts" / "dbquery.py"
STATE_ID = "dev:tap-auth0-to-target-duckdb"
SCHEMA = "auth0"
MARTS_SCHEMA = "analytics"
DBT_BUILD = "dbt-duckdb:build"
ACCESS_TOKEN = "demo-static-token"
CLIENT_ID = "demo-client-id"
CLIENT_SECRET = "demo-client-secret"


# -- output helpers ---------------------------------------------------------------------
def heading(text: str) -> None:
    print(f"\n=== {text} " + "=" * max(0, 74 - len(text)), flush=True)


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], title: str = "") -> None:
    cells = [[str(h) for h in headers]] + [["" if v is None else str(v) for v in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    numeric = [
        all(_is_num(r[i]) for r in cells[1:]) and len(cells) > 1 for i in range(len(headers))
    ]

    def fmt(row: list[str]) -> str:
        return "  ".join(
            c.rjust(w) if num else c.ljust(w)
            for c, w, num in zip(row, widths, numeric, strict=True)
        ).rstrip()

    if title:
        print(f"\n{title}")
    print("  " + fmt(cells[0]))
    print("  " + "  ".join("-" * w for w in widths))
    for r in cells[1:]:
        print("  " + fmt(r))
    sys.stdout.flush()


def _is_num(s: str) -> bool:
    return re.fullmatch(r"-?\d+(\.\d+)?", s) is not None


def parse_ts(value: str) -> datetime:
    """Sandbox ISO strings and DuckDB's naive (UTC) timestamps -> naive UTC datetime."""
    dt = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if dt.tzinfo is not None:
        dt = dt.astimezone(timezone.utc).replace(tzinfo=None)
    return dt


# -- sandbox ----------------------------------------------------------------------------
class SandboxProcess:
    """``tap-auth0-sandbox`` as a child process, stopped on exit whatever happens."""

    def __init__(self, users: int, seed: int, workdir: Path, logs: int = 0) -> None:
        self.ready_file = workdir / "sandbox.url"
        self.log_path = workdir / "sandbox.log"
        exe = Path(sys.executable).parent / "tap-auth0-sandbox"
        cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "auth0_sandbox.cli"]
        self.cmd = cmd + [
            "--port",
            "0",
            "--users",
            str(users),
            "--seed",
            str(seed),
            "--access-token",
            ACCESS_TOKEN,
            "--client-id",
            CLIENT_ID,
            "--client-secret",
            CLIENT_SECRET,
            "--ready-file",
            str(self.ready_file),
            "--logs",
            str(logs),
        ]
        self.proc: subprocess.Popen | None = None
        self.base_url = ""

    def start(self, timeout: float = 60) -> str:
        self._log = open(self.log_path, "w")  # noqa: SIM115
        self.proc = subprocess.Popen(
            self.cmd, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + timeout
        while not (self.ready_file.exists() and self.ready_file.read_text().strip()):
            if self.proc.poll() is not None:
                raise SystemExit(
                    f"sandbox exited with {self.proc.returncode}:\n{self.log_path.read_text()}"
                )
            if time.monotonic() > deadline:
                raise SystemExit(
                    f"sandbox not ready after {timeout}s:\n{self.log_path.read_text()}"
                )
            time.sleep(0.1)
        self.base_url = self.ready_file.read_text().strip().rstrip("/")
        return self.base_url

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def admin(self, method: str, path: str, body: dict | None = None) -> object:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(
            f"{self.base_url}/_sandbox/{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"} if data else {},
        )
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read() or b"null")


# -- meltano / duckdb -------------------------------------------------------------------
def meltano_env(base_url: str, duckdb_path: Path) -> dict[str, str]:
    # Never let a real tenant's settings from the shell leak into the demo.
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TAP_AUTH0_", "TARGET_DUCKDB_", "MELTANO_", "DBT_"))
        or k == "MELTANO_DATABASE_URI"
    }
    env.update(
        TAP_AUTH0_DOMAIN=base_url,
        TAP_AUTH0_TENANT="sandbox",  # a loopback domain does not name the tenant
        TAP_AUTH0_CLIENT_ID=CLIENT_ID,
        TAP_AUTH0_CLIENT_SECRET=CLIENT_SECRET,
        TAP_AUTH0_DUCKDB_PATH=str(duckdb_path),
        # Every stream, the opt-in ones too (meltano.yml leaves them out): the sandbox
        # answers in milliseconds, the report shows MFA adoption, and the incremental run
        # shows `user_detail` following `users`.
        TAP_AUTH0__SELECT='["*.*"]',
        MELTANO_SEND_ANONYMOUS_USAGE_STATS="false",
        MELTANO_CLI_DISABLE_VERSION_CHECK="true",
        MELTANO_CLI_LOG_FORMAT="plain",
        NO_COLOR="1",
    )
    return env


def meltano(args: list[str], env: dict[str, str], log: Path) -> float:
    """Run meltano, its output to ``log``; returns seconds taken, exits on failure."""
    t0 = time.monotonic()
    with open(log, "w") as fh:
        rc = subprocess.call(
            [str(MELTANO), *args],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=fh,
            stderr=subprocess.STDOUT,
        )
    took = time.monotonic() - t0
    if rc != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-40:])
        raise SystemExit(f"`meltano {' '.join(args)}` failed ({rc}); log {log}:\n{tail}")
    return took


def record_counts(log: Path) -> dict[str, int]:
    """Records per stream, from the Singer SDK's record_count metrics in the tap log."""
    counts: dict[str, int] = {}
    for m in re.finditer(
        r'"metric":\s*"record_count".*?"value":\s*(\d+).*?"stream":\s*"(\w+)"',
        log.read_text(errors="replace"),
    ):
        counts[m.group(2)] = counts.get(m.group(2), 0) + int(m.group(1))
    return counts


def _query(path: Path, sql: tuple[str, ...]) -> list[dict]:
    """Run statements on the DuckDB file with the loader's own duckdb (scripts/dbquery.py)."""
    out = subprocess.run(
        [str(DUCK_PY), str(DBQUERY), "duckdb", str(path)],
        input=json.dumps(list(sql)),
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"DuckDB query failed:\n{out.stderr}")
    return json.loads(out.stdout)


def duck(path: Path, *sql: str) -> list[list[list]]:
    return [r["rows"] for r in _query(path, sql)]


def duck_dicts(path: Path, *sql: str) -> list[list[dict]]:
    """As ``duck``, rows as dicts."""
    return [
        [dict(zip(r["columns"], row, strict=True)) for row in r["rows"]] for r in _query(path, sql)
    ]


def snapshot(path: Path) -> dict[str, tuple[str, str]]:
    """user_id -> (_sdc_batched_at of users row, of user_detail row)."""
    users, details = duck(
        path,
        f"SELECT user_id, _sdc_batched_at FROM {SCHEMA}.users",
        f"SELECT user_id, _sdc_batched_at FROM {SCHEMA}.user_detail",
    )
    d = dict(map(tuple, details))
    return {uid: (str(ts), str(d.get(uid))) for uid, ts in users}


# -- the demo ---------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--users", type=int, default=3000, help="users in the sandbox (3000)")
    ap.add_argument("--seed", type=int, default=1, help="sandbox data seed (1)")
    ap.add_argument("--logs", type=int, default=5000, help="log events in the sandbox (5000)")
    ap.add_argument("--touch", type=int, default=5, help="users to update before run 2 (5)")
    ap.add_argument("--create", type=int, default=2, help="users to create before run 2 (2)")
    ap.add_argument("--output", type=Path, default=ROOT / "output", help="output dir (output/)")
    args = ap.parse_args(argv)

    for exe, hint in ((MELTANO, "make meltano"), (DUCK_PY, "make meltano")):
        if not exe.exists():
            raise SystemExit(f"{exe} not found: run `{hint}` (or `make demo`) first")

    started = time.monotonic()
    args.output.mkdir(parents=True, exist_ok=True)
    db = args.output / "demo.duckdb"
    for p in (db, db.with_name(db.name + ".wal")):
        p.unlink(missing_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="tap-auth0-demo-"))
    sandbox = SandboxProcess(args.users, args.seed, workdir, logs=args.logs)

    def on_signal(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    try:
        heading("1. Local Auth0 sandbox")
        base_url = sandbox.start()
        truth = sandbox.admin("GET", "truth")
        assert isinstance(truth, list)
        print(f"  {args.users} users (seed {args.seed}) at {base_url}")
        print(f"  tap auth: client credentials ({CLIENT_ID} / ***) -> {base_url}/oauth/token")
        env = meltano_env(base_url, db)

        heading(f"2. Run 1: meltano run tap-auth0 target-duckdb {DBT_BUILD} (full)")
        log1 = args.output / "demo-run1.log"
        # --full-refresh: ignore any state left by an earlier demo in the Meltano systemdb.
        t1 = meltano(["run", "--full-refresh", "tap-auth0", "target-duckdb", DBT_BUILD], env, log1)
        print(f"  done in {t1:.1f}s (log: {log1}); {dbt_summary(log1)}")
        show_landed(db, truth, record_counts(log1))
        show_tenant_tables(db, sandbox.admin("GET", "tenant-truth"))
        show_daily_events(db, sandbox.admin("GET", "logs-truth"))
        state1 = bookmark(env)
        before = snapshot(db)

        heading(f"3. Change the tenant: update {args.touch} users, create {args.create}")
        touched = sandbox.admin("POST", f"touch?count={args.touch}&seed=7")
        touched_ids = list(touched["user_ids"]) if isinstance(touched, dict) else []
        created_ids = []
        for i in range(args.create):
            u = sandbox.admin(
                "POST",
                "users",
                {
                    "email": f"demo.new{i + 1}@example.com",
                    "name": f"Demo New {i + 1}",
                    "connection": "Username-Password-Authentication",
                },
            )
            created_ids.append(u["user_id"])
        table(
            ["change", "user_id"],
            [("updated", u) for u in touched_ids] + [("created", u) for u in created_ids],
        )

        heading(f"4. Run 2: meltano run tap-auth0 target-duckdb {DBT_BUILD} (incremental)")
        print(f"  state from run 1 ({STATE_ID}): users.updated_at bookmark = {state1}")
        log2 = args.output / "demo-run2.log"
        t2 = meltano(["run", "tap-auth0", "target-duckdb", DBT_BUILD], env, log2)
        print(f"  done in {t2:.1f}s (log: {log2}); {dbt_summary(log2)}")
        after = snapshot(db)
        show_incremental(
            db,
            truth,
            state1,
            before,
            after,
            touched_ids,
            created_ids,
            record_counts(log2),
            sandbox.admin("GET", "truth"),
        )
        print(f"\n  bookmark now: {bookmark(env)}")

        heading(f"5. dbt marts ({MARTS_SCHEMA} schema) against the sandbox")
        show_marts(db)
        ok = show_marts_vs_truth(
            db,
            sandbox.admin("GET", "truth"),
            sandbox.admin("GET", "tenant-truth"),
            sandbox.admin("GET", "logs-truth"),
        )
        out = args.output / "auth0-report.html"
        report.write_report("duckdb", str(db), out, MARTS_SCHEMA)
        print(f"\n  report written: {out} ({out.stat().st_size:,} bytes, self-contained)")
        if not ok:
            print("  MISMATCH between the marts and the sandbox's truth (see above)")

        heading("Done")
        stats = sandbox.admin("GET", "stats")
        if isinstance(stats, dict):
            print(f"  sandbox API stats: {json.dumps(stats)[:300]}")
        print(f"  DuckDB file: {db}")
        print(f"  elapsed: {time.monotonic() - started:.1f}s (run 1 {t1:.1f}s, run 2 {t2:.1f}s)")
        return 0
    finally:
        sandbox.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def dbt_summary(log: Path) -> str:
    """dbt's closing line (``Done. PASS=… WARN=… ERROR=…``) from a meltano run log."""
    found = re.findall(r"Done\. (PASS=\d+ WARN=\d+ ERROR=\d+ SKIP=\d+)", log.read_text())
    return f"dbt build: {found[-1]}" if found else "dbt build: no summary in the log"


# Mart -> (columns printed, ORDER BY).
MART_SAMPLES = {
    "auth0_users": (
        "user_id, primary_connection, identity_count, email_domain, logins_count, is_blocked,"
        " roles_count, organizations_count, is_mfa_enrolled",
        "roles_count DESC, organizations_count DESC, user_id",
    ),
    "auth0_user_roles": ("user_id, role_name, source", "user_id, role_name, source"),
    "auth0_daily_activity": (
        "activity_date, logins, signups, failed_logins, users_logging_in, stats_logins,"
        " stats_signups",
        "activity_date",
    ),
    "auth0_app_daily_logins": (
        "activity_date, app_name, app_type, logins, failed_logins, users_logging_in",
        "activity_date DESC, logins DESC",
    ),
    "auth0_monthly_active_users": (
        "month_start, monthly_active_users, logins, signups, auth0_active_users_30d",
        "month_start",
    ),
    "auth0_access_review": (
        "user_id, role_name, source, is_privileged, permission_count, granted_at,"
        " granted_by_client_id",
        "granted_at IS NULL, granted_at DESC, user_id, role_name, source",
    ),
}


def show_marts(db: Path, limit: int = 5) -> None:
    names = list(MART_SAMPLES)
    results = duck(
        db,
        *(
            f"SELECT {cols} FROM {MARTS_SCHEMA}.{name} ORDER BY {order} LIMIT {limit}"
            for name, (cols, order) in MART_SAMPLES.items()
        ),
    )
    for name, rows in zip(names, results, strict=True):
        headers = [c.strip() for c in MART_SAMPLES[name][0].split(",")]
        table(headers, rows, f"{MARTS_SCHEMA}.{name} (first {limit} rows):")


def show_marts_vs_truth(db: Path, users: object, tenant: object, logs: object) -> bool:
    """Each mart's rows and figures against what the sandbox's truth implies."""
    assert isinstance(users, list) and isinstance(tenant, dict) and isinstance(logs, list)
    queries = marts_truth.sql(MARTS_SCHEMA)
    results = dict(zip(queries, duck_dicts(db, *queries.values()), strict=True))
    want = marts_truth.expected(users, tenant, logs)
    got = marts_truth.landed(results)
    rows = marts_truth.compare(got, want)
    table(["mart", "rows", "sandbox truth implies", "figures"], rows, "Marts vs the sandbox:")
    days = want["auth0_daily_activity"]["days"]
    busiest = max(days, key=lambda d: days[d][0]) if days else None
    if busiest:
        w, g = days[busiest], got["auth0_daily_activity"]["days"].get(busiest)
        print(
            f"\n  e.g. {busiest}: logins/signups/failed/users {g} in the mart,"
            f" {w} in the sandbox's logs"
        )
    mfa = got["auth0_users"]["mfa_enrolled"]
    print(
        f"  MFA enrolled: {mfa} users in the mart, {want['auth0_users']['mfa_enrolled']}"
        " in the sandbox"
    )
    return all(r[3] == "OK" for r in rows)


def bookmark(env: dict[str, str]) -> str | None:
    out = subprocess.run(
        [str(MELTANO), "state", "get", STATE_ID],
        cwd=ROOT,
        env={**env, "MELTANO_CLI_LOG_LEVEL": "warning"},
        capture_output=True,
        text=True,
        check=False,
    )
    m = re.search(r"\{.*\}", out.stdout, re.S)
    if not m:
        return None
    try:
        state = json.loads(m.group(0))
    except ValueError:
        return None
    bm = state.get("singer_state", state).get("bookmarks", {}).get("users", {})
    return bm.get("replication_key_value")


def show_landed(db: Path, truth: list[dict], extracted: dict[str, int]) -> None:
    n_users, n_detail, by_conn, domains, ids = duck(
        db,
        f"SELECT count(*) FROM {SCHEMA}.users",
        f"SELECT count(*) FROM {SCHEMA}.user_detail",
        f"""SELECT json_extract_string(identities, '$[0].connection') AS connection,
                   count(*) AS users
            FROM {SCHEMA}.users GROUP BY 1 ORDER BY 2 DESC, 1""",
        f"""SELECT split_part(email, '@', 2) AS domain, count(*) AS users
            FROM {SCHEMA}.users WHERE email IS NOT NULL
            GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 5""",
        f"SELECT user_id FROM {SCHEMA}.users",
    )
    truth_ids = {u["user_id"] for u in truth}
    landed_ids = {r[0] for r in ids}
    table(
        ["table", "rows", "extracted", "sandbox users", "match"],
        [
            (
                f"{SCHEMA}.users",
                n_users[0][0],
                extracted.get("users", "n/a"),
                len(truth),
                "OK" if landed_ids == truth_ids else "MISMATCH",
            ),
            (
                f"{SCHEMA}.user_detail",
                n_detail[0][0],
                extracted.get("user_detail", "n/a"),
                len(truth),
                "OK" if n_detail[0][0] == len(truth) else "MISMATCH",
            ),
        ],
        "Rows landed vs the sandbox:",
    )
    if landed_ids != truth_ids:
        missing, extra = sorted(truth_ids - landed_ids), sorted(landed_ids - truth_ids)
        print(f"  missing: {missing[:5]} extra: {extra[:5]}")
    table(["connection", "users"], by_conn, "Users per connection:")
    table(["email domain", "users"], domains, "Top email domains:")


def show_tenant_tables(db: Path, truth: object) -> None:
    """Roles, organizations, apps and connections: rows landed against the sandbox."""
    assert isinstance(truth, dict)
    expected_rows = tenant_row_counts(truth)
    names = list(expected_rows)
    counts = duck(db, *(f"SELECT count(*) FROM {SCHEMA}.{name}" for name in names))
    rows = []
    for name, result in zip(names, counts, strict=True):
        expected = expected_rows[name]
        landed = result[0][0]
        rows.append(
            (f"{SCHEMA}.{name}", landed, expected, "OK" if landed == expected else "MISMATCH")
        )
    table(["table", "rows", "sandbox truth", "match"], rows, "Roles, organizations, apps:")


FAILED_LOGINS = ("f", "fp", "fu")


def show_daily_events(db: Path, truth: object) -> None:
    """Logins, signups and failed logins per day, from the warehouse's `logs` table."""
    assert isinstance(truth, list)
    expected: dict[str, list[int]] = {}
    for event in truth:
        day = expected.setdefault(str(event["date"])[:10], [0, 0, 0])
        kind = event.get("type")
        day[0] += kind == "s"
        day[1] += kind == "ss"
        day[2] += kind in FAILED_LOGINS
    (rows,) = duck(
        db,
        f"""SELECT strftime(CAST(date AS TIMESTAMP), '%Y-%m-%d') AS day,
                   count(*) FILTER (WHERE type = 's') AS logins,
                   count(*) FILTER (WHERE type = 'ss') AS signups,
                   count(*) FILTER (WHERE type IN ('f', 'fp', 'fu')) AS failed_logins,
                   count(*) AS events
            FROM {SCHEMA}.logs GROUP BY 1 ORDER BY 1""",
    )
    landed = {r[0]: [r[1], r[2], r[3]] for r in rows}
    table(
        ["day", "logins", "signups", "failed logins", "events", "match"],
        [(*r, "OK" if landed[r[0]] == expected.get(r[0]) else "MISMATCH") for r in rows],
        f"Logins, signups and failed logins per day ({SCHEMA}.logs):",
    )
    if set(landed) != set(expected):
        print(
            f"  MISMATCH: days in the sandbox {sorted(expected)}, in the warehouse {sorted(landed)}"
        )


def show_incremental(
    db: Path,
    truth_before: list[dict],
    bookmark1: str | None,
    before: dict[str, tuple[str, str]],
    after: dict[str, tuple[str, str]],
    touched: list[str],
    created: list[str],
    extracted: dict[str, int],
    truth_after: object,
) -> None:
    changed = {u for u, v in after.items() if before.get(u) != v}
    changed_users = {u for u, v in after.items() if u not in before or before[u][0] != v[0]}
    changed_detail = {u for u, v in after.items() if u not in before or before[u][1] != v[1]}
    expected = set(touched) | set(created)
    lookback = 300
    window: set[str] = set()
    if bookmark1:
        lo = parse_ts(bookmark1) - timedelta(seconds=lookback)
        window = {u["user_id"] for u in truth_before if parse_ts(u["updated_at"]) >= lo} - expected
    n_after = len(truth_after) if isinstance(truth_after, list) else "?"
    table(
        ["", "users", "user_detail"],
        [
            (
                "extracted by the tap (SDK metrics)",
                extracted.get("users", "n/a"),
                extracted.get("user_detail", "n/a"),
            ),
            ("rows written by run 2", len(changed_users), len(changed_detail)),
            (
                "  of which updated+created users",
                len(changed_users & expected),
                len(changed_detail & expected),
            ),
            (
                f"  of which re-read look-back ({lookback}s) users",
                len(changed_users & window),
                len(changed_detail & window),
            ),
            ("rows in table now", len(after), len(after)),
            ("users in sandbox now", n_after, n_after),
        ],
        "Incremental run:",
    )
    ok = expected <= changed and changed <= expected | window and len(after) == n_after
    print(
        f"\n  {'OK' if ok else 'UNEXPECTED'}: run 2 extracted the {len(expected)} changed/new users"
        + (
            f" plus {len(changed & window)} unchanged user(s) from the tap's {lookback}s"
            " look-back window before the bookmark"
            if changed & window
            else ""
        )
    )
    if not ok:
        unexpected = sorted(changed - expected - window)
        print(f"  missing: {sorted(expected - changed)}  unexpected: {unexpected[:10]}")
    sample = ", ".join(f"'{u}'" for u in sorted(expected)[:4])
    if sample:
        (rows,) = duck(
            db,
            f"""SELECT user_id, email, updated_at, user_metadata
                FROM {SCHEMA}.users WHERE user_id IN ({sample}) ORDER BY updated_at""",
        )
        table(["user_id", "email", "updated_at", "user_metadata"], rows, "Changed rows (sample):")


if __name__ == "__main__":
    sys.exit(main())
