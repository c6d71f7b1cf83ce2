"""Row counts the sandbox's ground truth implies, per table an extractor lands from it (one
row per role, per role and permission, per organization and member, ...): what a test or the
demo compares a warehouse's tables with."""

from __future__ import annotations

from typing import Any

# Table -> (tenant_truth key, how deep its rows sit: 0 a list, 1 per parent, 2 per parent and
# user).
TENANT_TABLES = {
    "roles": ("roles", 0),
    "role_permissions": ("role_permissions", 1),
    "role_members": ("role_users", 1),
    "organizations": ("organizations", 0),
    "organization_members": ("organization_members", 1),
    "organization_member_roles": ("organization_member_roles", 2),
    "organization_connections": ("organization_enabled_connections", 1),
    "organization_invitations": ("organization_invitations", 1),
    "clients": ("clients", 0),
    "client_grants": ("client_grants", 0),
    "grants": ("grants", 0),
    "resource_servers": ("resource_servers", 0),
    "connections": ("connections", 0),
    "connection_clients": ("connection_clients", 1),
    "actions": ("actions", 0),
    "log_streams": ("log_streams", 0),
}


def _count(value: Any, depth: int) -> int:
    if depth == 0:
        return len(value)
    return sum(_count(v, depth - 1) for v in value.values())


def tenant_row_counts(tenant_truth: dict[str, Any]) -> dict[str, int]:
    """Rows per table of TENANT_TABLES, from `Sandbox.tenant_truth()` (or the admin API's
    `GET truth/tenant`)."""
    return {name: _count(tenant_truth[key], depth) for name, (key, depth) in TENANT_TABLES.items()}
