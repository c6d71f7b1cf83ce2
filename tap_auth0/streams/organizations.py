"""Organizations (B2B tenants) and, per organization, its members with their roles, its
enabled connections and its pending invitations."""

from __future__ import annotations

import threading
import typing as t

from tap_auth0.client import Auth0Stream
from tap_auth0.errors import ScopeError
from tap_auth0.pagination import CheckpointPaginator, OffsetPaginator

MEMBER_FIELDS = ("user_id", "email", "name", "picture")


class OrganizationsStream(Auth0Stream):
    name = "organizations"
    path = "/organizations"
    records_key = "organizations"
    primary_keys = ("id",)
    paginator = CheckpointPaginator()
    scopes = ("read:organizations", "read:organizations_summary")
    child_context: t.ClassVar[dict[str, str]] = {"organization_id": "id"}
    item_path = "/organizations/{id}"
    tombstones = True


class OrganizationMembersStream(Auth0Stream):
    """Members by checkpoint, with their organization roles inline when
    `organization_member_roles` is selected (one request serves both tables)."""

    name = "organization_members"
    parent = OrganizationsStream
    path = "/organizations/{organization_id}/members"
    records_key = "members"
    primary_keys = ("organization_id", "user_id")
    paginator = CheckpointPaginator()
    scopes = ("read:organization_members",)
    drop_fields = ("roles",)  # they land in organization_member_roles
    tombstones = True

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self.with_roles = False
        self._lock = threading.Lock()

    def prepare(self, consumers: list[Auth0Stream]) -> None:
        self.with_roles = any(c.derived_from is type(self) for c in consumers)
        self._role_consumers = [c for c in consumers if c.derived_from is type(self)]

    def request_params(self, context: t.Mapping[str, t.Any] | None) -> dict[str, t.Any]:
        names = MEMBER_FIELDS + (("roles",) if self.with_roles else ())
        return {"fields": ",".join(names), "include_fields": "true"}

    def fetch_children(self, context: dict[str, t.Any]) -> list[dict[str, t.Any]]:
        if not self.with_roles:
            return super().fetch_children(context)
        try:
            return super().fetch_children(context)
        except ScopeError as exc:
            # `roles` in fields needs read:organization_member_roles: members still land.
            with self._lock:
                if self.with_roles:
                    self.with_roles = False
                    for consumer in self._role_consumers:
                        self.skips.add(
                            consumer.name, exc, why="members are read without their roles"
                        )
            return super().fetch_children(context)


class OrganizationMemberRolesStream(Auth0Stream):
    """Each member's organization roles, from the members' answers: no extra requests."""

    name = "organization_member_roles"
    parent = OrganizationsStream
    derived_from = OrganizationMembersStream
    path = OrganizationMembersStream.path
    primary_keys = ("organization_id", "user_id", "role_id")
    scopes = ("read:organization_member_roles",)
    tombstones = True

    def derive(self, records: list[dict[str, t.Any]]) -> list[dict[str, t.Any]]:
        return [
            {
                "organization_id": member["organization_id"],
                "user_id": member["user_id"],
                "role_id": role["id"],
                "role_name": role.get("name"),
            }
            for member in records
            for role in member.get("roles") or ()
            if isinstance(role, dict) and role.get("id")
        ]


class OrganizationConnectionsStream(Auth0Stream):
    name = "organization_connections"
    parent = OrganizationsStream
    path = "/organizations/{organization_id}/enabled_connections"
    records_key = "enabled_connections"
    primary_keys = ("organization_id", "connection_id")
    paginator = OffsetPaginator()
    scopes = ("read:organization_connections",)
    tombstones = True


class OrganizationInvitationsStream(Auth0Stream):
    """Pending invitations. `invitation_url` and `ticket_id` are live sign-up links: never
    asked for, and dropped again if Auth0 sends them anyway."""

    name = "organization_invitations"
    parent = OrganizationsStream
    path = "/organizations/{organization_id}/invitations"
    records_key = "invitations"
    primary_keys = ("id",)
    paginator = OffsetPaginator()
    scopes = ("read:organization_invitations",)
    secret_fields = ("invitation_url", "ticket_id")
    tombstones = True
