"""The report's audit sections (scripts/report.py) from given figures, without a warehouse:
what a reader sees of the access changes and the admin actions (their figures against real
marts: tests/e2e/test_dbt_models.py and test_audit_marts.py)."""

from __future__ import annotations

import importlib.util
import re
from datetime import datetime, timezone
from typing import Any

from tests.support.paths import ROOT

spec = importlib.util.spec_from_file_location("report", ROOT / "scripts" / "report.py")
assert spec and spec.loader
report = importlib.util.module_from_spec(spec)
spec.loader.exec_module(report)

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=timezone.utc)


def change(i: int, kind: str = "role", change_type: str = "grant", **kw: Any) -> dict[str, Any]:
    row = {
        "log_id": f"900{i:05d}", "position": 0, "event_at": f"2026-12-0{1 + i % 4} 10:00:00.000",
        "day": f"2026-12-0{1 + i % 4}", "change_type": change_type, "access_kind": kind,
        "user_id": f"auth0|{i}", "email": None, "role_id": "rol_1", "role_name": "admin",
        "organization_id": None, "organization_name": None, "actor_client_id": "cli_1",
        "actor_client_name": "Terraform", "actor_user_id": None, "actor_user_name": None,
    }  # fmt: skip
    row.update(kw)
    return row


def figures(page: str, chart: str) -> dict[tuple[str, str], int]:
    """(data-label, data-series) -> data-value of one chart's figures on a page."""
    found = re.findall(
        rf'data-chart="{chart}" data-label="([^"]*)" data-series="([^"]*)" data-value="(\d+)"',
        page,
    )
    return {(label, series): int(v) for label, series, v in found}


def test_access_changes_are_counted_per_day_and_kind_and_the_newest_listed() -> None:
    rows = [change(i) for i in range(report.MAX_CHANGES)]
    rows.append(change(999, "organization_role", "revoke", organization_id="org_1"))
    page = report.access_table(rows, NOW)
    counts = figures(page, "access")
    assert sum(counts.values()) == len(rows)
    assert counts[("2026-12-04 organization_role", "revoked")] == 1
    assert counts[("2026-12-04 organization_role", "granted")] == 0
    assert len(figures(page, "access_change")) == report.MAX_CHANGES
    assert f"The {report.MAX_CHANGES} newest of {len(rows)} changes are listed." in page
    assert "From 2026-11-28 12:00:00 to 2026-12-05 12:00:00 UTC." in page


def test_names_from_the_tenant_are_escaped() -> None:
    page = report.access_table([change(1, email="<script>x</script>@a.b")], NOW)
    assert "<script>" not in page and "&lt;script&gt;" in page
    admin = report.admin_table(
        [{"day": "2026-12-05", "actor": report.actor("<b>bad</b>", "cli_1", None, None),
          "actions": 3, "failed": 1}]
    )  # fmt: skip
    assert "<b>" not in admin and "&lt;b&gt;bad&lt;/b&gt; (cli_1)" in admin


def test_an_actor_is_its_client_and_dashboard_user() -> None:
    assert report.actor("Terraform", "cli_1", None, None) == "Terraform (cli_1)"
    assert report.actor(None, "cli_1", None, None) == "cli_1"
    assert (
        report.actor("Auth0 Dashboard", "cli_d", "Ann", "auth0|ann")
        == "Ann (auth0|ann) via Auth0 Dashboard (cli_d)"
    )


def test_nothing_recent_says_so_with_its_window() -> None:
    page = report.access_table([], NOW)
    window = "2026-11-28 12:00:00 to 2026-12-05 12:00:00 UTC"
    assert page == f"<p>No access granted or revoked from {window}.</p>"
    assert "No Management API writes" in report.admin_table([])


def page_of(tenants: list[dict[str, Any]], access: list[dict[str, Any]]) -> str:
    fig = {
        "now": NOW, "admin": [], "access": access, "daily": [], "connections": [], "roles": [],
        "mfa": [], "apps": [], "monthly": [("2026-12-01", 9)], "tenants": tenants,
        "totals": {"users": sum(t["users"] for t in tenants), "blocked": 0, "logged_in": 0},
    }  # fmt: skip
    return report.render(fig, "test")


def tenant(name: str, users: int) -> dict[str, Any]:
    return {"tenant": name, "users": users, "blocked": 1, "logged_in": 2, "logins": 3, "mau": 4}


def test_several_tenants_get_a_row_each_and_their_changes_a_tenant() -> None:
    access = [change(1, tenant="acme-us"), change(2, tenant="acme-eu")]
    page = page_of([tenant("acme-eu", 5), tenant("acme-us", 7)], access)
    assert "<h2>2 tenants</h2>" in page
    counts = figures(page, "tenants")
    assert counts[("acme-eu", "users")] == 5 and counts[("acme-us", "users")] == 7
    assert counts[("acme-us", "mau")] == 4
    assert "<th>tenant</th><th>change</th>" in page
    assert "<td>acme-eu</td><td>granted</td>" in page


def test_one_tenant_has_no_tenant_section_or_column() -> None:
    page = page_of([tenant("acme", 5)], [change(1, tenant="acme")])
    assert "tenants</h2>" not in page and not figures(page, "tenants")
    assert "<th>tenant</th>" not in page
