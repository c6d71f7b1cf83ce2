"""Every stream the tap offers, in sync order: adding a stream is one line here."""

from __future__ import annotations

import typing as t

from tap_auth0.streams.actions import ActionsStream
from tap_auth0.streams.apis import ResourceServersStream
from tap_auth0.streams.apps import ClientGrantsStream, ClientsStream, GrantsStream
from tap_auth0.streams.connections import ConnectionClientsStream, ConnectionsStream
from tap_auth0.streams.log_streams import LogStreamsStream
from tap_auth0.streams.logs import LogsStream, StatsActiveUsersStream, StatsDailyStream
from tap_auth0.streams.organizations import (
    OrganizationConnectionsStream,
    OrganizationInvitationsStream,
    OrganizationMemberRolesStream,
    OrganizationMembersStream,
    OrganizationsStream,
)
from tap_auth0.streams.rbac import RoleMembersStream, RolePermissionsStream, RolesStream
from tap_auth0.streams.user_subresources import (
    UserAuthenticationMethodsStream,
    UserPermissionsStream,
    UserRefreshTokensStream,
    UserSessionsStream,
)
from tap_auth0.streams.users.detail import UserDetailByIdStream, UserDetailStream
from tap_auth0.streams.users.stream import UsersStream

if t.TYPE_CHECKING:
    from tap_auth0.client import Auth0Stream
    from tap_auth0.settings import Settings

STREAMS: tuple[type[Auth0Stream], ...] = (
    UsersStream,
    UserDetailStream,
    UserPermissionsStream,
    UserAuthenticationMethodsStream,
    UserSessionsStream,
    UserRefreshTokensStream,
    RolesStream,
    RolePermissionsStream,
    RoleMembersStream,
    OrganizationsStream,
    OrganizationMembersStream,
    OrganizationMemberRolesStream,
    OrganizationConnectionsStream,
    OrganizationInvitationsStream,
    ClientsStream,
    ClientGrantsStream,
    GrantsStream,
    ResourceServersStream,
    ConnectionsStream,
    ConnectionClientsStream,
    ActionsStream,
    LogStreamsStream,
    LogsStream,
    StatsDailyStream,
    StatsActiveUsersStream,
)


def streams_for(settings: Settings) -> list[type[Auth0Stream]]:
    """`user_ids` makes `user_detail` standalone (fetched by ID, no listing)."""
    if not settings.user_ids:
        return list(STREAMS)
    return [UserDetailByIdStream if s is UserDetailStream else s for s in STREAMS]
