"""What the dbt marts (transform/) must hold for a sandbox tenant, computed from the sandbox's
own truth (``truth()``, ``tenant_truth()``, ``logs_truth()``), independently of the SQL, and
the same figures read from the warehouse. Used by scripts/demo.py and tests/e2e.

Definitions (as in the marts): a login is a log event of type ``s``, a signup ``ss``, a failed
login ``f``, ``fp`` or ``fu``; days are UTC; a user is MFA-enrolled with a confirmed
authentication method other than a password; an access review row's grant is the latest
succeeded grant of it in the log that no revoke followed; every grant in force has one open
interval in auth0_access_history (its past is checked by tests/e2e/test_access_history.py,
against the times of the changes it makes).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta, timezone
from typing import Any
from urllib.parse import unquote

FAILED_LOGINS = ("f", "fp", "fu")
MARTS = (
    "auth0_users",
    "auth0_user_roles",
    "auth0_daily_activity",
    "auth0_app_daily_logins",
    "auth0_monthly_active_users",
    "auth0_admin_activity",
    "auth0_access_review",
    "auth0_access_history",
)
# Management API path collection -> auth0_admin_activity.resource_kind; and the collections
# whose second segment is the object's id (/actions/actions/{id} is the one exception).
KINDS = {
    "users": "user", "user-blocks": "user", "roles": "role", "organizations": "organization",
    "clients": "client", "client-grants": "client_grant", "connections": "connection",
    "resource-servers": "resource_server", "actions": "action", "log-streams": "log_stream",
    "grants": "grant", "sessions": "session", "refresh-tokens": "refresh_token",
    "device-credentials": "device_credential", "jobs": "job", "rules": "rule", "hooks": "hook",
    "custom-domains": "custom_domain", "email-templates": "email_template",
    "emails": "email_provider", "tenants": "tenant", "guardian": "guardian",
    "branding": "branding", "prompts": "prompt", "attack-protection": "attack_protection",
    "keys": "signing_key", "tickets": "ticket",
}  # fmt: skip
ID_COLLECTIONS = {
    "users", "user-blocks", "roles", "organizations", "clients", "client-grants", "connections",
    "resource-servers", "log-streams", "grants", "sessions", "refresh-tokens",
    "device-credentials", "rules", "hooks", "custom-domains", "email-templates",
}  # fmt: skip
# (resource kind, path after the id) whose body's id list auth0_admin_activity keeps.
BODY_IDS = {
    ("user", "roles"): ("roles", "role"),
    ("organization", "members/roles"): ("roles", "role"),
    ("role", "users"): ("users", "user"),
    ("organization", "members"): ("members", "user"),
}


def admin_action(e: dict[str, Any], client_names: dict[str, str]) -> tuple[Any, ...]:
    """What auth0_admin_activity holds for one sapi/fapi event: (event type, actor client id,
    actor client name, dashboard user id, action, method, resource kind, resource id,
    sub-resource, target user, named user ids, named role ids, status code, succeeded)."""
    details = e.get("details") or {}
    request, response = details.get("request") or {}, details.get("response") or {}
    method = str(request.get("method") or "").upper()
    path = re.sub(r"^/api/v2(?=/)", "", str(request.get("path") or "").split("?", 1)[0])
    seg = [unquote(p) for p in path.split("/")[1:]] + [""] * 5
    kind = KINDS.get(seg[0], "other")
    status = response.get("statusCode")
    rid: str | None
    if seg[0] == "actions" and seg[1] == "actions":
        rid, sub = seg[2] or None, seg[3] or None
    else:
        rid = seg[1] or None if seg[0] in ID_COLLECTIONS else None
        sub = seg[2] or None if kind in ("user", "role", "organization", "client",
                                         "connection", "resource_server") else None  # fmt: skip
        if seg[0] == "user-blocks":
            sub = None
    if kind == "organization" and seg[2] == "members" and seg[4] == "roles":
        sub = "members/roles"
    body = response.get("body") if isinstance(response.get("body"), dict) else {}
    created = body.get("user_id") or body.get("client_id") or body.get("id")
    if rid is None and method == "POST" and sub is None and e.get("type") == "sapi":
        rid = created
    named: dict[str, list[str]] = {"user": [], "role": []}
    key = BODY_IDS.get((kind, sub or ""))
    sent = request.get("body")
    if key and isinstance(sent, dict) and isinstance(sent.get(key[0]), list):
        named[key[1]] = [str(v) for v in sent[key[0]]]
    target = rid if kind == "user" else seg[3] if sub == "members/roles" else None
    if target is None and len(named["user"]) == 1:
        target = named["user"][0]
    client = e.get("client_id") or None
    name = e.get("client_name") or client_names.get(client or "")
    return (
        e.get("type"), client, name,
        ((request.get("auth") or {}).get("user") or {}).get("user_id") or None,
        e.get("description"), method, kind, rid, sub, target,
        ",".join(named["user"]) or None, ",".join(named["role"]) or None, status,
        e.get("type") == "sapi" and (status is None or 200 <= int(status) < 300),
    )  # fmt: skip


# (resource kind, sub-resource) of a write that grants or revokes access -> access kind.
ACCESS_KINDS = {
    ("user", "roles"): "role",
    ("role", "users"): "role",
    ("organization", "members"): "organization",
    ("organization", "members/roles"): "organization_role",
}


def access_changes(
    logs: list[dict[str, Any]], client_names: dict[str, str]
) -> list[tuple[Any, ...]]:
    """What stg_auth0__access_changes holds, in log order: (log id, date, grant | revoke,
    access kind, user, role, organization, actor client id, actor client name, dashboard
    user name) per user the succeeded write grants or revokes something."""
    out = []
    for e in sorted(logs, key=lambda e: (str(e["date"]), e["log_id"])):
        if e.get("type") != "sapi":
            continue
        a = admin_action(e, client_names)
        method, kind, rid, sub, target, named_users, named_roles, ok = (
            a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[13],
        )  # fmt: skip
        access = ACCESS_KINDS.get((kind, sub or ""))
        if not ok or access is None or method not in ("POST", "DELETE"):
            continue
        if kind == "role" and method != "POST":
            continue
        change = "grant" if method == "POST" else "revoke"
        user_auth = ((e.get("details") or {}).get("request") or {}).get("auth") or {}
        dash = user_auth.get("user") or {}
        who = (a[1], a[2], dash.get("name") or dash.get("email") or None)
        if kind == "user" or sub == "members/roles":
            pairs = [(target, r) for r in (named_roles or "").split(",") if r]
        else:
            pairs = [
                (u, rid if kind == "role" else None) for u in (named_users or "").split(",") if u
            ]
        org = rid if kind == "organization" else None
        for user, role in pairs:
            out.append((e["log_id"], e["date"], change, access, user, role, org, *who))
    return out


def standing_grants(changes: list[tuple[Any, ...]]) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    """(user, role, organization or None) -> the change that granted it, for the grants whose
    latest grant in the log no revoke followed."""
    out: dict[tuple[Any, ...], tuple[Any, ...] | None] = {}
    for c in changes:  # log order
        _, _, change, access, user, role, org = c[:7]
        if change == "grant" and access != "organization":
            out[(user, role, org)] = c
        elif change == "revoke" and access == "organization":
            for key in [k for k in out if k[0] == user and k[2] == org]:
                out[key] = None
        elif change == "revoke":
            out[(user, role, org)] = None
    return {k: v for k, v in out.items() if v is not None}


def access_review(
    users: list[dict[str, Any]],
    tenant: dict[str, Any],
    logs: list[dict[str, Any]],
    privileged_roles: tuple[str, ...] = (),
) -> dict[tuple[str, str, str], tuple[Any, ...]]:
    """auth0_access_review's rows: (user, role, source) -> ``REVIEW_COLUMNS``' values."""
    names = {c["client_id"]: c.get("name") for c in tenant.get("clients", [])}
    grants = standing_grants(access_changes(logs, names))
    emails = {u["user_id"]: u.get("email") for u in users}
    roles = {r["id"]: r["name"] for r in tenant["roles"]}
    orgs = {o["id"]: o.get("name") for o in tenant["organizations"]}
    perms = {
        rid: tuple(
            sorted(f"{p['permission_name']} ({p['resource_server_identifier']})" for p in ps)
        )
        for rid, ps in tenant["role_permissions"].items()
    }
    held = [(u["user_id"], rid, None) for rid, us in tenant["role_users"].items() for u in us]
    held += [
        (uid, r["id"], org)
        for org, per_user in tenant["organization_member_roles"].items()
        for uid, rs in per_user.items()
        for r in rs
    ]
    out = {}
    for uid, rid, org in held:
        g = grants.get((uid, rid, org))
        name = roles.get(rid)
        out[(uid, rid, "direct" if org is None else f"organization:{org}")] = (
            emails.get(uid), name, "direct" if org is None else "organization", org,
            orgs.get(org) if org else None, name in privileged_roles, len(perms.get(rid, ())),
            perms.get(rid) or None, instant(g[1]) if g else None, *(g[7:10] if g else (None,) * 3),
            g[0] if g else None,
        )  # fmt: skip
    return out


def instant(value: Any) -> str | None:
    """A timestamp (ISO with Z or an offset, or as a warehouse prints it: ' ' for 'T', the
    fraction's trailing zeros dropped) as UTC 'YYYY-MM-DD HH:MM:SS.fff'."""
    if value in (None, ""):
        return None
    m = re.fullmatch(r"(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d(?::?\d\d)?)?",
                     str(value).strip())  # fmt: skip
    if m is None:
        raise ValueError(f"not a timestamp: {value!r}")
    day, clock, fraction, zone = m.groups()
    micros = (fraction or "").ljust(6, "0")[:6]
    offset = "+00:00" if zone in (None, "Z") else zone if len(zone) > 3 else zone + ":00"
    dt = datetime.fromisoformat(f"{day}T{clock}.{micros}{offset}").astimezone(timezone.utc)
    return dt.strftime("%Y-%m-%d %H:%M:%S.%f")[:23]


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
    privileged_roles: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Per mart: ``rows`` and the figures checked (``privileged_roles``: the dbt var)."""
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
    names = {c["client_id"]: c.get("name") for c in tenant.get("clients", [])}
    actions = {
        e["log_id"]: admin_action(e, names) for e in logs if e.get("type") in ("sapi", "fapi")
    }
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
        "auth0_admin_activity": {
            "rows": len(actions),
            "by_kind": dict(Counter(a[6] for a in actions.values())),
            "actions": actions,
        },
        "auth0_access_review": review_figures(access_review(users, tenant, logs, privileged_roles)),
        "auth0_access_history": {"open": open_grants(tenant)},
    }


def open_grants(tenant: dict[str, Any]) -> dict[str, int]:
    """auth0_access_history's open intervals per access kind: the grants in force."""
    return {
        "role": sum(len(v) for v in tenant["role_users"].values()),
        "organization": sum(len(v) for v in tenant["organization_members"].values()),
        "organization_role": sum(
            len(roles) for per_user in tenant["organization_member_roles"].values()
            for roles in per_user.values()
        ),
    }  # fmt: skip


def review_figures(rows: dict[tuple[str, str, str], tuple[Any, ...]]) -> dict[str, Any]:
    """auth0_access_review's figures: rows, privileged rows, rows whose grant the log knows,
    and every row."""
    return {
        "rows": len(rows),
        "privileged": sum(1 for r in rows.values() if r[5]),
        "granted_known": sum(1 for r in rows.values() if r[8] is not None),
        "grants": rows,
    }


ADMIN_COLUMNS = (
    "event_type, actor_client_id, actor_client_name, actor_user_id, action, method,"
    " resource_kind, resource_id, sub_resource, target_user_id, named_user_ids,"
    " named_role_ids, status_code, is_succeeded"
)

REVIEW_COLUMNS = (
    "email, role_name, source_type, organization_id, organization_name, is_privileged,"
    " permission_count, permissions, granted_at, granted_by_client_id, granted_by_client_name,"
    " granted_by_user_name, granted_log_id"
)


def sql(schema: str, tenant: str | None = None) -> dict[str, str]:
    """Statements whose results ``landed`` turns into the same shape as ``expected``: of
    every tenant's rows, or of ``tenant``'s (the marts over several tenants)."""
    s = schema
    w = "" if tenant is None else " WHERE tenant = '{}'".format(tenant.replace("'", "''"))
    out = {f"{m}.rows": f"SELECT count(*) AS n FROM {s}.{m}{w}" for m in MARTS}
    out.update(
        {
            "mfa": f"SELECT count(CASE WHEN is_mfa_enrolled THEN 1 END) AS n,"
            f" count(is_mfa_enrolled) AS known FROM {s}.auth0_users{w}",
            "by_connection": f"SELECT coalesce(primary_connection, '(none)') AS k, count(*) AS n"
            f" FROM {s}.auth0_users{w} GROUP BY 1",
            "sources": f"SELECT source_type AS k, count(*) AS n FROM {s}.auth0_user_roles{w}"
            " GROUP BY 1",
            "days": f"SELECT CAST(activity_date AS VARCHAR(10)) AS k, logins, signups,"
            f" failed_logins, users_logging_in FROM {s}.auth0_daily_activity{w}",
            "months": f"SELECT CAST(month_start AS VARCHAR(10)) AS k, monthly_active_users AS n"
            f" FROM {s}.auth0_monthly_active_users{w}",
            "admin": f"SELECT log_id, {ADMIN_COLUMNS} FROM {s}.auth0_admin_activity{w}",
            "review": f"SELECT user_id, role_id, source, {REVIEW_COLUMNS}"
            f" FROM {s}.auth0_access_review{w}",
            "history_open": f"SELECT access_kind AS k, count(*) AS n"
            f" FROM {s}.auth0_access_history WHERE valid_to IS NULL"
            + ("" if tenant is None else w.replace(" WHERE", " AND"))
            + " GROUP BY 1",
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
        "auth0_admin_activity": {
            "rows": n("auth0_admin_activity.rows"),
            "by_kind": dict(Counter(r["resource_kind"] for r in results["admin"])),
            "actions": {
                r["log_id"]: tuple(
                    int(r[c]) if c == "status_code" and r[c] is not None else r[c]
                    for c in (c.strip() for c in ADMIN_COLUMNS.split(","))
                )
                for r in results["admin"]
            },
        },
        "auth0_access_review": review_figures(
            {(r["user_id"], r["role_id"], r["source"]): review_row(r) for r in results["review"]}
        ),
        "auth0_access_history": {
            "rows": n("auth0_access_history.rows"),
            "open": {k: 0 for k in ("role", "organization", "organization_role")}
            | {r["k"]: int(r["n"]) for r in results["history_open"]},
        },
    }


def review_row(r: dict[str, Any]) -> tuple[Any, ...]:
    """One auth0_access_review row as ``access_review`` shapes it: permissions as a sorted
    tuple (the warehouse's collation may order them otherwise), times as ``instant``."""
    out = []
    for c in (c.strip() for c in REVIEW_COLUMNS.split(",")):
        v = r[c]
        if c == "is_privileged":
            v = v in (True, 1, "true", "t", "True")
        elif c == "permission_count":
            v = int(v)
        elif c == "permissions" and v is not None:
            v = tuple(sorted(v.split(", ")))
        elif c == "granted_at":
            v = instant(v)
        out.append(v)
    return tuple(out)


def compare(got: dict[str, Any], want: dict[str, Any]) -> list[tuple[str, int, int | None, str]]:
    """(mart, rows, rows implied by the truth, "OK" or what differs) per mart; the truth
    implies no row count for auth0_access_history (its past intervals), only its figures."""
    out = []
    for mart in MARTS:
        diffs = [k for k in want[mart] if got[mart].get(k) != want[mart][k]]
        out.append(
            (
                mart,
                got[mart]["rows"],
                want[mart].get("rows"),
                "OK" if not diffs else ", ".join(diffs),
            )
        )
    return out
