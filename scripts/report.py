#!/usr/bin/env python3
"""Auth0 report: one self-contained HTML page (inline SVG, no scripts, no network) drawn
from the dbt marts (transform/, docs/analytics.md).

    python scripts/report.py --duckdb output/demo.duckdb [--out output/auth0-report.html]
    python scripts/report.py --postgres postgresql://user@host/db [--schema analytics]

Charts: daily logins, signups and failed logins (auth0_daily_activity), users by primary
connection and MFA adoption (auth0_users), users per role (auth0_user_roles). Tables: admin
actions per day by actor (auth0_admin_activity) and the access granted and revoked in the
last 7 days (stg_auth0__access_changes). Every bar and figure carries its value in
``data-chart``/``data-label``/``data-series``/``data-value`` attributes, so a test can read
the page back and compare it with the marts.

The marts are read with a loader plugin's interpreter (scripts/dbquery.py), which has the
database driver; this script itself needs only the standard library.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from html import escape
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DBQUERY = ROOT / "scripts" / "dbquery.py"
DRIVER_PY = {
    "duckdb": ROOT / ".meltano" / "utilities" / "dbt-duckdb" / "venv" / "bin" / "python",
    "postgres": ROOT / ".meltano" / "loaders" / "target-postgres" / "venv" / "bin" / "python",
}
SERIES = (("logins", "#2f6fdb"), ("signups", "#2f9e44"), ("failed_logins", "#d9480f"))
MFA_LABELS = {True: "enrolled", False: "not enrolled", None: "unknown (stream not extracted)"}
RECENT_DAYS = 7  # "access granted and revoked in the last 7 days"
MAX_CHANGES = 500  # changes listed one by one; the counts per day cover them all
CHANGE_LABELS = {"grant": "granted", "revoke": "revoked"}


# -- figures from the marts -------------------------------------------------------------
def since(now: datetime) -> str:
    """The first instant of "the last 7 days" before ``now``, as a UTC timestamp literal."""
    aware = now if now.tzinfo else now.replace(tzinfo=timezone.utc)
    start = aware.astimezone(timezone.utc) - timedelta(days=RECENT_DAYS)
    return start.strftime("%Y-%m-%d %H:%M:%S")


def queries(schema: str, now: datetime) -> dict[str, str]:
    """The report's figures, one SQL statement each (``now``: the end of the recent window)."""
    s = schema
    return {
        "daily": f"""SELECT CAST(activity_date AS VARCHAR(10)) AS label, sum(logins) AS logins,
                         sum(signups) AS signups, sum(failed_logins) AS failed_logins,
                         sum(users_logging_in) AS users_logging_in
                  FROM {s}.auth0_daily_activity GROUP BY activity_date ORDER BY activity_date""",
        "connections": f"""SELECT coalesce(primary_connection, '(none)') AS label,
                               count(*) AS users
                        FROM {s}.auth0_users GROUP BY 1 ORDER BY 2 DESC, 1""",
        "roles": f"""SELECT role_name AS label, count(DISTINCT tenant || '|' || user_id) AS users
                  FROM {s}.auth0_user_roles GROUP BY 1 ORDER BY 2 DESC, 1""",
        "mfa": f"""SELECT is_mfa_enrolled AS enrolled, count(*) AS users
                FROM {s}.auth0_users GROUP BY 1 ORDER BY 1""",
        "totals": f"""SELECT count(*) AS users,
                          count(CASE WHEN is_blocked THEN 1 END) AS blocked,
                          count(CASE WHEN last_login_at IS NOT NULL THEN 1 END) AS logged_in
                   FROM {s}.auth0_users""",
        "monthly": f"""SELECT CAST(month_start AS VARCHAR(10)) AS label,
                           sum(monthly_active_users) AS monthly_active_users
                    FROM {s}.auth0_monthly_active_users
                    GROUP BY month_start ORDER BY month_start""",
        # Per tenant (a section of its own when the marts hold several).
        "tenants": f"""SELECT u.tenant, u.users, u.blocked, u.logged_in,
                           coalesce(d.logins, 0) AS logins, coalesce(m.mau, 0) AS mau
                    FROM (SELECT tenant, count(*) AS users,
                                 count(CASE WHEN is_blocked THEN 1 END) AS blocked,
                                 count(CASE WHEN last_login_at IS NOT NULL THEN 1 END)
                                     AS logged_in
                          FROM {s}.auth0_users GROUP BY tenant) AS u
                    LEFT JOIN (SELECT tenant, sum(logins) AS logins
                               FROM {s}.auth0_daily_activity GROUP BY tenant) AS d
                        ON d.tenant = u.tenant
                    LEFT JOIN (SELECT tenant, monthly_active_users AS mau
                               FROM {s}.auth0_monthly_active_users
                               WHERE month_start = (SELECT max(month_start)
                                                    FROM {s}.auth0_monthly_active_users)) AS m
                        ON m.tenant = u.tenant
                    ORDER BY u.tenant""",
        "apps": f"""SELECT app_name AS label, sum(logins) AS logins
                 FROM {s}.auth0_app_daily_logins GROUP BY 1 ORDER BY 2 DESC, 1""",
        "admin": f"""SELECT CAST(event_date AS VARCHAR(10)) AS day, actor_client_id,
                         actor_user_id, max(actor_client_name) AS client_name,
                         max(actor_user_name) AS user_name, count(*) AS actions,
                         count(CASE WHEN NOT is_succeeded THEN 1 END) AS failed
                  FROM {s}.auth0_admin_activity
                  GROUP BY 1, 2, 3 ORDER BY 1 DESC, 6 DESC, 2, 3""",
        "access": f"""SELECT c.tenant, c.log_id, c.position,
                          CAST(c.event_at AS VARCHAR(30)) AS event_at,
                          CAST(CAST(c.event_at AS DATE) AS VARCHAR(10)) AS day,
                          c.change_type, c.access_kind, c.user_id, u.email, c.role_id,
                          r.role_name, c.organization_id, o.organization_name,
                          c.actor_client_id, c.actor_client_name, c.actor_user_id,
                          c.actor_user_name
                   FROM {s}.stg_auth0__access_changes AS c
                   LEFT JOIN {s}.stg_auth0__users AS u
                       ON u.tenant = c.tenant AND u.user_id = c.user_id
                   LEFT JOIN {s}.stg_auth0__roles AS r
                       ON r.tenant = c.tenant AND r.role_id = c.role_id
                   LEFT JOIN {s}.stg_auth0__organizations AS o
                       ON o.tenant = c.tenant AND o.organization_id = c.organization_id
                   WHERE c.event_at >= CAST('{since(now)}' AS TIMESTAMP)
                   ORDER BY c.event_at DESC, c.log_id DESC, c.position""",
    }


def run_sql(kind: str, target: str, statements: list[str]) -> list[list[dict[str, Any]]]:
    py = DRIVER_PY[kind]
    if not py.exists():
        raise SystemExit(f"{py} not found: run `make meltano` first")
    proc = subprocess.run(
        [str(py), str(DBQUERY), kind, target],
        input=json.dumps(statements),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"reading the marts failed:\n{proc.stderr}")
    return [
        [dict(zip(r["columns"], row, strict=True)) for row in r["rows"]]
        for r in json.loads(proc.stdout)
    ]


def figures(
    kind: str, target: str, schema: str = "analytics", now: datetime | None = None
) -> dict[str, Any]:
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    q = queries(schema, now)
    results = dict(zip(q, run_sql(kind, target, list(q.values())), strict=True))
    return {
        "now": now,
        "admin": [
            {
                "day": r["day"],
                "actor": actor(
                    r["client_name"], r["actor_client_id"], r["user_name"], r["actor_user_id"]
                ),
                "actions": int(r["actions"]),
                "failed": int(r["failed"]),
            }
            for r in results["admin"]
        ],  # fmt: skip
        "access": results["access"],
        "daily": [{k: _num(v) for k, v in r.items()} for r in results["daily"]],
        "connections": [(r["label"], int(r["users"])) for r in results["connections"]],
        "roles": [(r["label"], int(r["users"])) for r in results["roles"]],
        "mfa": [(MFA_LABELS[_bool(r["enrolled"])], int(r["users"])) for r in results["mfa"]],
        "totals": {k: int(v) for k, v in results["totals"][0].items()},
        "monthly": [(r["label"], int(r["monthly_active_users"])) for r in results["monthly"]],
        "apps": [(r["label"], int(r["logins"])) for r in results["apps"]],
        "tenants": [
            {k: v if k == "tenant" else int(v) for k, v in r.items()} for r in results["tenants"]
        ],
    }


def actor(
    client_name: str | None, client_id: str | None, user_name: str | None, user_id: str | None
) -> str:
    """Who made a change: the API client (name and id), and the dashboard user if any."""
    client = f"{client_name} ({client_id})" if client_name else client_id or "(no client)"
    if user_id:
        return f"{user_name or user_id} ({user_id}) via {client}"
    return client


def _num(v: Any) -> Any:
    return int(v) if isinstance(v, (int, float)) or (isinstance(v, str) and v.isdigit()) else v


def _bool(v: Any) -> bool | None:
    return None if v is None else v in (True, "true", "True", 1, "t")


# -- SVG --------------------------------------------------------------------------------
def _bar_attrs(chart: str, label: str, series: str, value: int) -> str:
    return (
        f'data-chart="{escape(chart)}" data-label="{escape(label)}" '
        f'data-series="{escape(series)}" data-value="{value}"'
    )


def daily_chart(rows: list[dict[str, Any]]) -> str:
    """Grouped bars per day: logins, signups, failed logins."""
    if not rows:
        return "<p>No log events.</p>"
    group_w, bar_w, h, top, bottom, left = 66, 18, 240, 20, 40, 44
    width = left + group_w * len(rows) + 10
    peak = max(max(int(r[s]) for s, _ in SERIES) for r in rows) or 1
    scale = (h - top - bottom) / peak
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{h}" '
        f'role="img" aria-label="Daily logins, signups and failed logins">'
    ]
    for tick in (0, peak // 2, peak):
        y = h - bottom - tick * scale
        parts.append(
            f'<line x1="{left}" x2="{width}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
            f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" font-size="10">{tick}</text>'
        )
    for i, r in enumerate(rows):
        x0 = left + i * group_w + 6
        for j, (series, color) in enumerate(SERIES):
            v = int(r[series])
            bh = v * scale
            x = x0 + j * bar_w
            parts.append(
                f'<rect x="{x}" y="{h - bottom - bh:.1f}" width="{bar_w - 2}" height="{bh:.1f}" '
                f'fill="{color}" {_bar_attrs("daily", r["label"], series, v)}>'
                f"<title>{escape(r['label'])} {series}: {v}</title></rect>"
            )
        parts.append(
            f'<text x="{x0 + 1.5 * bar_w:.0f}" y="{h - bottom + 14}" text-anchor="middle" '
            f'font-size="10">{escape(r["label"][5:])}</text>'
        )
    lx = left
    for series, color in SERIES:
        parts.append(
            f'<rect x="{lx}" y="{h - 14}" width="10" height="10" fill="{color}"/>'
            f'<text x="{lx + 14}" y="{h - 5}" font-size="11">{series.replace("_", " ")}</text>'
        )
        lx += 110
    parts.append("</svg>")
    return "".join(parts)


def hbar_chart(chart: str, rows: list[tuple[str, int]], color: str, series: str) -> str:
    """Horizontal bars, one per label."""
    if not rows:
        return "<p>No data.</p>"
    row_h, label_w, bar_max, pad = 22, 230, 360, 60
    h = row_h * len(rows) + 10
    peak = max(v for _, v in rows) or 1
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_w + bar_max + pad}" '
        f'height="{h}" role="img" aria-label="{escape(chart)}">'
    ]
    for i, (label, v) in enumerate(rows):
        y = 5 + i * row_h
        w = v / peak * bar_max
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 14}" text-anchor="end" font-size="12">'
            f"{escape(label)}</text>"
            f'<rect x="{label_w}" y="{y + 2}" width="{w:.1f}" height="{row_h - 6}" '
            f'fill="{color}" {_bar_attrs(chart, label, series, v)}>'
            f"<title>{escape(label)}: {v}</title></rect>"
            f'<text x="{label_w + w + 4:.1f}" y="{y + 14}" font-size="11">{v}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _cell(chart: str, label: str, series: str, value: int) -> str:
    return f'<td class="n" {_bar_attrs(chart, label, series, value)}>{value}</td>'


def admin_table(rows: list[dict[str, Any]]) -> str:
    """Management API writes per UTC day and actor, newest day first."""
    if not rows:
        return "<p>No Management API writes in the log.</p>"
    body = "".join(
        f"<tr><td>{escape(r['day'])}</td><td>{escape(r['actor'])}</td>"
        + _cell("admin", f"{r['day']} {r['actor']}", "actions", r["actions"])
        + _cell("admin", f"{r['day']} {r['actor']}", "failed", r["failed"])
        + "</tr>"
        for r in rows
    )
    return (
        "<table><tr><th>day (UTC)</th><th>actor</th><th>actions</th><th>failed</th></tr>"
        f"{body}</table>"
    )


TENANT_COLUMNS = {
    "users": "users",
    "blocked": "blocked",
    "logged_in": "ever logged in",
    "logins": "logins",
    "mau": "monthly active (latest month)",
}


def tenants_table(rows: list[dict[str, Any]]) -> str:
    """The marts' tenants side by side (the charts add them up)."""
    head = "".join(f"<th>{escape(label)}</th>" for label in TENANT_COLUMNS.values())
    body = "".join(
        f"<tr><td>{escape(str(r['tenant']))}</td>"
        + "".join(_cell("tenants", str(r["tenant"]), c, r[c]) for c in TENANT_COLUMNS)
        + "</tr>"
        for r in rows
    )
    return f"<table><tr><th>tenant</th>{head}</tr>{body}</table>"


def _named(name: Any, ident: Any) -> str:
    return f"{name} ({ident})" if name else str(ident or "")


def _changed_by(r: dict[str, Any]) -> str:
    return actor(
        r["actor_client_name"], r["actor_client_id"], r["actor_user_name"], r["actor_user_id"]
    )


def access_table(rows: list[dict[str, Any]], now: datetime) -> str:
    """Grants and revokes counted per day and kind, then listed (newest first)."""
    window = f"{since(now)} to {now:%Y-%m-%d %H:%M:%S} UTC"
    several = len({r.get("tenant") for r in rows}) > 1  # then each change names its tenant
    if not rows:
        return f"<p>No access granted or revoked from {window}.</p>"
    counts: dict[tuple[str, str], dict[str, int]] = {}
    for r in rows:
        per = counts.setdefault((r["day"], r["access_kind"]), {"grant": 0, "revoke": 0})
        per[r["change_type"]] += 1
    summary = "".join(
        f"<tr><td>{escape(day)}</td><td>{escape(kind.replace('_', ' '))}</td>"
        + "".join(
            _cell("access", f"{day} {kind}", CHANGE_LABELS[c], per[c]) for c in CHANGE_LABELS
        )
        + "</tr>"
        for (day, kind), per in sorted(counts.items(), key=lambda kv: (kv[0][0], kv[0][1]),
                                       reverse=True)
    )  # fmt: skip
    listed = "".join(
        f'<tr data-chart="access_change" data-label="{escape(r["log_id"])}#{r["position"]}" '
        f'data-series="{CHANGE_LABELS[r["change_type"]]}" data-value="1">'
        f"<td>{escape(str(r['event_at'])[:19])}</td>"
        + (f"<td>{escape(str(r.get('tenant')))}</td>" if several else "")
        + f"<td>{CHANGE_LABELS[r['change_type']]}</td>"
        f"<td>{escape(r['access_kind'].replace('_', ' '))}</td>"
        f"<td>{escape(_named(r['email'], r['user_id']))}</td>"
        f"<td>{escape(_named(r['role_name'], r['role_id']))}</td>"
        f"<td>{escape(_named(r['organization_name'], r['organization_id']))}</td>"
        f"<td>{escape(_changed_by(r))}</td>"
        "</tr>"
        for r in rows[:MAX_CHANGES]
    )
    more = (
        f"<p class=note>The {MAX_CHANGES} newest of {len(rows)} changes are listed.</p>"
        if len(rows) > MAX_CHANGES
        else ""
    )
    return (
        f"<p class=note>From {window}.</p>"
        "<table><tr><th>day (UTC)</th><th>kind</th><th>granted</th><th>revoked</th></tr>"
        f"{summary}</table>"
        "<table><tr><th>time (UTC)</th>"
        + ("<th>tenant</th>" if several else "")
        + "<th>change</th><th>kind</th><th>user</th><th>role</th>"
        f"<th>organization</th><th>by</th></tr>{listed}</table>{more}"
    )


def render(fig: dict[str, Any], source: str) -> str:
    t = fig["totals"]
    mau = fig["monthly"][-1] if fig["monthly"] else ("-", 0)
    enrolled = dict(fig["mfa"]).get(MFA_LABELS[True])
    mfa_share = f"{enrolled / t['users']:.0%}" if enrolled is not None and t["users"] else "n/a"
    kpis = [
        ("users", t["users"]),
        ("blocked", t["blocked"]),
        ("ever logged in", t["logged_in"]),
        (f"monthly active ({mau[0][:7]})", mau[1]),
        ("MFA enrolled", mfa_share),
    ]
    generated = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    kpi_html = "".join(
        f'<div class="kpi"><b data-kpi="{escape(k)}">{escape(str(v))}</b><span>{escape(k)}</span>'
        "</div>"
        for k, v in kpis
    )
    sections = [
        ("Daily logins, signups and failed logins", daily_chart(fig["daily"]),
         "auth0_daily_activity: logins (type s), signups (ss), failed logins (f, fp, fu)."),
        ("Users by primary connection",
         hbar_chart("connections", fig["connections"], "#5f3dc4", "users"),
         "auth0_users.primary_connection: the connection of each user's first identity."),
        ("Role distribution", hbar_chart("roles", fig["roles"], "#0b7285", "users"),
         "auth0_user_roles: distinct users holding each role, directly or via an organization."),
        ("MFA adoption", hbar_chart("mfa", fig["mfa"], "#e67700", "users"),
         "auth0_users.is_mfa_enrolled: a confirmed authentication method other than a password"
         " (needs the opt-in user_authentication_methods stream)."),
        ("Logins per application", hbar_chart("apps", fig["apps"], "#364fc7", "logins"),
         "auth0_app_daily_logins, summed over the days."),
        ("Access granted and revoked in the last 7 days", access_table(fig["access"], fig["now"]),
         "stg_auth0__access_changes: roles given to or taken from users (directly or through"
         " a role), organization memberships, organization member roles; a deleted user's or"
         " role's grants are not listed (the log does not say whose they were)."),
        ("Admin actions per day by actor", admin_table(fig["admin"]),
         "auth0_admin_activity: Management API writes (sapi, and fapi counted as failed) per"
         " UTC day, API client and dashboard user."),
    ]  # fmt: skip
    if len(fig["tenants"]) > 1:
        sections.insert(0, (
            f"{len(fig['tenants'])} tenants", tenants_table(fig["tenants"]),
            "Every figure above and chart below adds up all the tenants; this table has each"
            " one's (auth0_users, auth0_daily_activity, auth0_monthly_active_users per tenant).",
        ))  # fmt: skip
    body = "".join(
        f"<section><h2>{escape(title)}</h2>{svg}<p class=note>{escape(note)}</p></section>"
        for title, svg, note in sections
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Auth0 report</title>
<style>
body {{ font: 14px system-ui, sans-serif; margin: 2em auto; max-width: 1000px; color: #222; }}
h1 {{ margin-bottom: 0; }} h2 {{ font-size: 1.1em; margin-top: 2em; }}
.sub, .note {{ color: #666; font-size: 12px; }}
.kpis {{ display: flex; gap: 1em; flex-wrap: wrap; margin: 1.5em 0; }}
.kpi {{ border: 1px solid #ddd; border-radius: 6px; padding: .6em 1em; min-width: 120px; }}
.kpi b {{ display: block; font-size: 1.6em; }} .kpi span {{ color: #666; font-size: 12px; }}
table {{ border-collapse: collapse; margin: .5em 0; font-size: 12px; }}
th, td {{ border-bottom: 1px solid #eee; padding: 2px 8px; text-align: left; }}
td.n {{ text-align: right; }}
</style></head>
<body>
<h1>Auth0 report</h1>
<p class="sub">From the dbt marts in {escape(source)}; generated {generated}.</p>
<div class="kpis">{kpi_html}</div>
{body}
</body></html>
"""


def write_report(
    kind: str,
    target: str,
    out: Path,
    schema: str = "analytics",
    now: datetime | None = None,
) -> dict[str, Any]:
    fig = figures(kind, target, schema, now)
    out.parent.mkdir(parents=True, exist_ok=True)
    label = Path(target).name if kind == "duckdb" else f"PostgreSQL schema {schema}"
    out.write_text(render(fig, f"{label} (schema {schema})" if kind == "duckdb" else label))
    return fig


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    where = ap.add_mutually_exclusive_group(required=True)
    where.add_argument("--duckdb", type=Path, help="DuckDB file with the marts")
    where.add_argument("--postgres", help="PostgreSQL URI")
    ap.add_argument("--schema", default="analytics", help="schema of the marts (analytics)")
    ap.add_argument("--out", type=Path, default=ROOT / "output" / "auth0-report.html")
    args = ap.parse_args(argv)
    kind, target = ("duckdb", str(args.duckdb)) if args.duckdb else ("postgres", args.postgres)
    write_report(kind, target, args.out, args.schema)
    print(f"report written: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
