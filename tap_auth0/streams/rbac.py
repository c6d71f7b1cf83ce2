"""Roles, what each grants, and who holds it: membership is read per role, never per user."""

from __future__ import annotations

import typing as t

from tap_auth0.client import Auth0Stream
from tap_auth0.pagination import CheckpointPaginator, OffsetPaginator


class RolesStream(Auth0Stream):
    """`GET /roles`: offset only (Auth0 allows at most 1,000 roles per tenant)."""

    name = "roles"
    path = "/roles"
    records_key = "roles"
    primary_keys = ("id",)
    paginator = OffsetPaginator()
    scopes = ("read:roles",)
    child_context: t.ClassVar[dict[str, str]] = {"role_id": "id"}
    item_path = "/roles/{id}"
    tombstones = True


class RolePermissionsStream(Auth0Stream):
    name = "role_permissions"
    parent = RolesStream
    path = "/roles/{role_id}/permissions"
    records_key = "permissions"
    primary_keys = ("role_id", "resource_server_identifier", "permission_name")
    paginator = OffsetPaginator()
    scopes = ("read:roles",)
    tombstones = True


class RoleMembersStream(Auth0Stream):
    """`GET /roles/{id}/users` by checkpoint: no 1,000-user cap."""

    name = "role_members"
    parent = RolesStream
    path = "/roles/{role_id}/users"
    records_key = "users"
    primary_keys = ("role_id", "user_id")
    paginator = CheckpointPaginator()
    scopes = ("read:users", "read:roles", "read:role_members")
    tombstones = True
