"""Opt-in per-user streams: permissions assigned directly, MFA enrolments, sessions and
refresh tokens (metadata only). Each costs at least one request per user, so none is
selected by default; they are read through the shared fan-out only for the users this run
emits, and a full pass of `users` (first run, `--full-refresh`, export) ends each with
ACTIVATE_VERSION."""

from __future__ import annotations

from tap_auth0.client import Auth0Stream
from tap_auth0.pagination import CheckpointPaginator, OffsetPaginator
from tap_auth0.streams.users.stream import UsersStream


class UserPermissionsStream(Auth0Stream):
    name = "user_permissions"
    parent = UsersStream
    path = "/users/{user_id}/permissions"
    records_key = "permissions"
    primary_keys = ("user_id", "resource_server_identifier", "permission_name")
    paginator = OffsetPaginator()
    scopes = ("read:users",)
    selected_by_default = False
    tombstones = True


class UserAuthenticationMethodsStream(Auth0Stream):
    """MFA enrolments. Auth0 omits `total` when the list is empty."""

    name = "user_authentication_methods"
    parent = UsersStream
    path = "/users/{user_id}/authentication-methods"
    records_key = "authenticators"
    primary_keys = ("user_id", "id")
    paginator = OffsetPaginator()
    scopes = ("read:authentication_methods",)
    selected_by_default = False
    tombstones = True


class UserSessionsStream(Auth0Stream):
    """Enterprise plans only."""

    name = "user_sessions"
    parent = UsersStream
    path = "/users/{user_id}/sessions"
    records_key = "sessions"
    primary_keys = ("user_id", "id")
    paginator = CheckpointPaginator()
    scopes = ("read:sessions",)
    selected_by_default = False


class UserRefreshTokensStream(Auth0Stream):
    """Enterprise plans only; token metadata, never the token."""

    name = "user_refresh_tokens"
    parent = UsersStream
    path = "/users/{user_id}/refresh-tokens"
    records_key = "tokens"
    primary_keys = ("user_id", "id")
    paginator = CheckpointPaginator()
    scopes = ("read:refresh_tokens",)
    selected_by_default = False
