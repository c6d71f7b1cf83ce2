"""What the dbt marts (transform/) must hold for a sandbox tenant, computed from the sandbox's
own truth (``truth()``, ``tenant_truth()``, ``logs_truth()``), independently of the SQL, and
the same figures read from the warehouse. Used by scripts/demo.py and tests/e2e.

Definitions (as in the marts): a login is a log event of type ``s``, a signup ``ss``, a failed
login ``f``, ``fp`` or ``fu``; days are UTC; a user is MFA-enrolled with a confirmed
authentication method other than a password.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, timedelta
from typing import Any

FAILED_LOGINS = ("f", "fp", "fu")
MARTS = (
    "auth0_users",
    "auth0_user_roles",
    "auth0_daily_activity",
    "auth0_app_daily_logins",
    "auth0_monthly_active_users",
)


def _day_range(first: str, last: str) -> list[str]:
    d, end, out = date.fromisoformat(first), date.fromisoformat(last), []
    while d <= end:
        out.append(d.isoformat())
        d += timedelta(days=1)
    return out


def expected(
    users: list[dict[str, Any]],
    tenant: dict[str, Any],
    logs: list[dict[str, Any]],
    mfa_extracted: bool = True,
) -> dict[str, Any]:
    """Per mart: ``rows`` and the figures checked."""
    daily: dict[str, list[Any]] = defaultdict(lambda: [0, 0, 0, set()])
    apps: set[tuple[str, str]] = set()
    monthly: dict[str, set[str]] = defaultdict(set)
    for e in logs:
        day, kind = str(e["date"])[:10], e.get("type")
        row = daily[day]
        if kind == "s":
            row[0] += 1
            if e.get("user_id"):
                row[3].add(e["user_id"])
                monthly[day[:7] + "-01"].add(e["user_id"])
        elif kind == "ss":
            row[1] += 1
        elif kind in FAILED_LOGINS:
            row[2] += 1
        if kind in ("s", *FAILED_LOGINS) and e.get("client_id"):
            apps.add((day, e["client_id"]))
        monthly.setdefault(day[:7] + "-01", set())
    days = _day_range(min(daily), max(daily)) if daily else []
    # Months with log events: a month whose events include no login still has a row.
    months = {m: len(u) for m, u in monthly.items()}

    direct = sum(len(v) for v in tenant["role_users"].values())
    via_orgs = sum(
        len(roles) for per_user in tenant["organization_member_roles"].values()
        for roles in per_user.values()
    )  # fmt: skip
    ids = {u["user_id"] for u in users}
    methods = tenant.get("user_authentication_methods", {})
    enrolled = {
        uid
        for uid, ms in methods.items()
        if uid in ids
        and any(m.get("type") != "password" and m.get("confirmed") is not False for m in ms)
    }
    connections = Counter(
        (u.get("identities") or [{}])[0].get("connection") or "(none)" for u in users
    )
    return {
        "auth0_users": {
            "rows": len(users),
            "mfa_enrolled": len(enrolled) if mfa_extracted else None,
            "by_connection": dict(connections),
        },
        "auth0_user_roles": {"rows": direct + via_orgs, "direct": direct, "organization": via_orgs},
        "auth0_daily_activity": {
            "rows": len(days),
            "days": {
                d: (daily[d][0], daily[d][1], daily[d][2], len(daily[d][3]))
                if d in daily
                else (0, 0, 0, 0)
                for d in days
            },
        },  # fmt: skip
        "auth0_app_daily_logins": {"rows": len(apps)},
        "auth0_monthly_active_users": {"rows": len(months), "months": months},
    }


def sql(schema: str) -> dict[str, str]:
    """Statements whose results ``landed`` turns into the same shape as ``expected``."""
    s = schema
    out = {f"{m}.rows": f"SELECT count(*) AS n FROM {s}.{m}" for m in MARTS}
    out.update(
        {
            "mfa": f"SELECT count(CASE WHEN is_mfa_enrolled THEN 1 END) AS n,"
            f" count(is_mfa_enrolled) AS known FROM {s}.auth0_users",
            "by_connection": f"SELECT coalesce(primary_connection, '(none)') AS k, count(*) AS n"
            f" FROM {s}.auth0_users GROUP BY 1",
            "sources": f"SELECT source_type AS k, count(*) AS n FROM {s}.auth0_user_roles"
            " GROUP BY 1",
            "days": f"SELECT CAST(activity_date AS VARCHAR(10)) AS k, logins, signups,"
            f" failed_logins, users_logging_in FROM {s}.auth0_daily_activity",
            "months": f"SELECT CAST(month_start AS VARCHAR(10)) AS k, monthly_active_users AS n"
            f" FROM {s}.auth0_monthly_active_users",
        }
    )
    return out


def landed(results: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """``sql()``'s results (rows as dicts, statement names as keys), shaped as ``expected``."""

    def n(key: str) -> int:
        return int(results[key][0]["n"])

    mfa = results["mfa"][0]
    sources = {r["k"]: int(r["n"]) for r in results["sources"]}
    return {
        "auth0_users": {
            "rows": n("auth0_users.rows"),
            "mfa_enrolled": int(mfa["n"]) if int(mfa["known"]) else None,
            "by_connection": {r["k"]: int(r["n"]) for r in results["by_connection"]},
        },
        "auth0_user_roles": {
            "rows": n("auth0_user_roles.rows"),
            "direct": sources.get("direct", 0),
            "organization": sources.get("organization", 0),
        },
        "auth0_daily_activity": {
            "rows": n("auth0_daily_activity.rows"),
            "days": {
                r["k"]: tuple(
                    int(r[c]) for c in ("logins", "signups", "failed_logins", "users_logging_in")
                )
                for r in results["days"]
            },
        },
        "auth0_app_daily_logins": {"rows": n("auth0_app_daily_logins.rows")},
        "auth0_monthly_active_users": {
            "rows": n("auth0_monthly_active_users.rows"),
            "months": {r["k"]: int(r["n"]) for r in results["months"]},
        },
    }


def compare(got: dict[str, Any], want: dict[str, Any]) -> list[tuple[str, int, int, str]]:
    """(mart, rows, rows implied by the truth, "OK" or what differs) per mart."""
    out = []
    for mart in MARTS:
        diffs = [k for k in want[mart] if got[mart].get(k) != want[mart][k]]
        out.append(
            (mart, got[mart]["rows"], want[mart]["rows"], "OK" if not diffs else ", ".join(diffs))
        )
    return out
