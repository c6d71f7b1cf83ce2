"""``/api/v2`` mutations: the Management API calls an admin makes (delete a user, assign
roles, rename an organization, delete a client, ...). Paths, methods, status codes, scopes
and response bodies are Auth0's (openapi.management.json and the go-auth0 recordings). The
handlers only validate and translate: the change itself, and its ``sapi`` log event, happen
in SandboxState (shared with ``/_sandbox/*``); a failed call's ``fapi`` is logged by
``api.route``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from . import audit
from .audit import Caller
from .errors import auth0_error, payload_error
from .messages import Request, Response, json_response

if TYPE_CHECKING:
    from .state import SandboxState

Doc = dict[str, Any]


# -- request helpers ------------------------------------------------------------------------
def _sent(req: Request) -> Any:
    try:
        return req.json()
    except ValueError:
        raise auth0_error(400, "Invalid request payload JSON format") from None


def caller_of(sb: SandboxState, req: Request) -> Caller:
    """The acting client (tokens are issued to the sandbox's client) and what it sent."""
    return Caller(
        sb.config.client_id,
        ip=req.headers.get("x-forwarded-for", "127.0.0.1"),
        user_agent=req.headers.get("user-agent", ""),
        scopes=tuple(sorted(req.scopes)),
        body=_sent(req) if req.body else None,
        query=dict(req.query),
        path=req.path,
    )


def _object(req: Request, *required: str) -> Doc:
    body = _sent(req)
    if not isinstance(body, dict):
        raise payload_error(f"Expected type object but found type {_type(body)}.")
    for key in required:
        if key not in body:
            raise payload_error(f"Missing required property: {key}")
    return body


def _no_keywords(body: Doc) -> Doc:
    """Keys that would collide with SandboxState's own keyword arguments are not Auth0 fields."""
    for key in ("log", "caller"):
        if key in body:
            raise payload_error(f"'Additional properties not allowed: {key}'.")
    return body


def _type(value: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean"}.get(
        type(value), "null" if value is None else "number"
    )


def _ids(req: Request, key: str) -> list[str]:
    """``{"<key>": ["id", ...]}`` with at least one id."""
    ids = _object(req, key)[key]
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise payload_error(f"Array is too short (0), minimum 1 on property {key}.")
    return ids


def _permissions(sb: SandboxState, req: Request) -> list[Doc]:
    """``{"permissions": [...]}``, each an existing ``{resource_server_identifier,
    permission_name}``."""
    perms = _object(req, "permissions")["permissions"]
    if not isinstance(perms, list) or not perms:
        raise payload_error("Array is too short (0), minimum 1 on property permissions.")
    for p in perms:
        if not isinstance(p, dict) or not {
            "resource_server_identifier",
            "permission_name",
        } <= set(p):
            raise payload_error(
                "Missing required property: resource_server_identifier or permission_name"
            )
    for p in perms:
        try:
            sb.directory.permission_doc(p["resource_server_identifier"], p["permission_name"])
        except KeyError:
            raise auth0_error(
                404, "Resource server or permission does not exist.", "inexistent_permission"
            ) from None
    return perms


# -- 404s (user: recorded; the others: the OpenAPI's descriptions, errorCodes invented) -------
def _user(sb: SandboxState, user_id: str) -> Doc:
    doc = sb.store.get(user_id)
    if doc is None:
        raise auth0_error(404, "The user does not exist.", "inexistent_user")
    return doc


def _role(sb: SandboxState, role_id: str) -> None:
    if role_id not in sb.directory.roles:
        raise auth0_error(404, "The role does not exist.", "inexistent_role")


def _org(sb: SandboxState, org_id: str) -> None:
    if org_id not in sb.directory.orgs:
        raise auth0_error(404, "The organization does not exist.", "inexistent_organization")


def _client(sb: SandboxState, client_id: str) -> None:
    if client_id not in sb.tenant.clients:
        raise auth0_error(404, "The client does not exist", "inexistent_client")


def _connection(sb: SandboxState, conn_id: str) -> None:
    if not any(c["id"] == conn_id for c in sb.connections):
        raise auth0_error(404, "The connection does not exist", "inexistent_connection")


def _known_users(sb: SandboxState, req: Request, key: str) -> list[str]:
    """``{"<key>": [user_id, ...]}``, each an existing user."""
    user_ids = _ids(req, key)
    for uid in user_ids:
        _user(sb, uid)
    return user_ids


def _known_roles(sb: SandboxState, req: Request) -> list[str]:
    """``{"roles": [role_id, ...]}``, each an existing role."""
    role_ids = _ids(req, "roles")
    for rid in role_ids:
        _role(sb, rid)
    return role_ids


@contextmanager
def _conflict(error_code: str) -> Iterator[None]:
    """The state's ValueError (a name already taken) as Auth0's 409."""
    try:
        yield
    except ValueError as exc:
        raise auth0_error(409, str(exc), error_code) from None


def _update(
    sb: SandboxState,
    req: Request,
    item_id: str,
    exists: Callable[[SandboxState, str], None],
    update: Callable[..., Doc],
    conflict: str,
) -> Response:
    """A PATCH of a named item (a role, an organization): 404 when it does not exist, 409
    with Auth0's `conflict` code when the new name is taken, else the updated item."""
    exists(sb, item_id)
    body = _object(req)
    with _conflict(conflict):
        doc = update(item_id, body, caller=caller_of(sb, req))
    return json_response(200, doc)


def _empty(status: int, body: Any = None) -> Response:
    return Response(status) if status == 204 else json_response(status, body or {})


# -- users ------------------------------------------------------------------------------------
def delete_user(sb: SandboxState, req: Request, id: str) -> Response:  # noqa: A002
    _user(sb, id)
    sb.delete_user(id, caller=caller_of(sb, req))
    return _empty(204)


def update_user(sb: SandboxState, req: Request, id: str) -> Response:  # noqa: A002
    _user(sb, id)
    changes = _no_keywords(_object(req))
    return json_response(200, sb.update_user(id, caller=caller_of(sb, req), **changes))


def _user_roles(add: bool) -> Callable[..., Response]:
    def handler(sb: SandboxState, req: Request, id: str) -> Response:  # noqa: A002
        _user(sb, id)
        sb.change_user_roles(id, _known_roles(sb, req), add, caller=caller_of(sb, req))
        return _empty(204)

    return handler


def _user_permissions(add: bool) -> Callable[..., Response]:
    def handler(sb: SandboxState, req: Request, id: str) -> Response:  # noqa: A002
        _user(sb, id)
        sb.change_user_permissions(id, _permissions(sb, req), add, caller=caller_of(sb, req))
        return _empty(201 if add else 204)

    return handler


def delete_authentication_method(
    sb: SandboxState,
    req: Request,
    id: str,  # noqa: A002
    authentication_method_id: str,
) -> Response:
    _user(sb, id)
    if not sb.delete_authentication_methods(
        id, authentication_method_id, caller=caller_of(sb, req)
    ):
        raise auth0_error(
            404, "The authentication method does not exist.", "inexistent_authentication_method"
        )
    return _empty(204)


def delete_authentication_methods(sb: SandboxState, req: Request, id: str) -> Response:  # noqa: A002
    _user(sb, id)
    sb.delete_authentication_methods(id, caller=caller_of(sb, req))
    return _empty(204)


def _revoke(kind: str) -> Callable[..., Response]:
    def handler(sb: SandboxState, req: Request, user_id: str) -> Response:
        _user(sb, user_id)
        sb.delete_user_items(user_id, kind, caller=caller_of(sb, req))
        return _empty(202)

    return handler


def delete_session(sb: SandboxState, req: Request, id: str) -> Response:  # noqa: A002
    if not sb.delete_session(id, caller=caller_of(sb, req)):
        raise auth0_error(404, "The session does not exist.", "inexistent_session")
    return _empty(202)


# -- roles ------------------------------------------------------------------------------------
def create_role(sb: SandboxState, req: Request) -> Response:
    body = _object(req, "name")
    with _conflict("role_already_exists"):
        role = sb.create_role(body["name"], body.get("description", ""), caller=caller_of(sb, req))
    return json_response(200, role)


def update_role(sb: SandboxState, req: Request, id: str) -> Response:  # noqa: A002
    return _update(sb, req, id, _role, sb.update_role, "role_already_exists")


def delete_role(sb: SandboxState, req: Request, id: str) -> Response:  # noqa: A002
    _role(sb, id)
    sb.delete_role(id, caller=caller_of(sb, req))
    return _empty(200)


def add_role_users(sb: SandboxState, req: Request, id: str) -> Response:  # noqa: A002
    _role(sb, id)
    sb.add_role_users(id, _known_users(sb, req, "users"), caller=caller_of(sb, req))
    return _empty(200)


def _role_permissions(add: bool) -> Callable[..., Response]:
    def handler(sb: SandboxState, req: Request, id: str) -> Response:  # noqa: A002
        _role(sb, id)
        sb.change_role_permissions(id, _permissions(sb, req), add, caller=caller_of(sb, req))
        return _empty(201 if add else 204)

    return handler


# -- organizations ----------------------------------------------------------------------------
def create_organization(sb: SandboxState, req: Request) -> Response:
    body = _no_keywords(_object(req, "name"))
    extra = {k: v for k, v in body.items() if k not in ("name", "display_name")}
    with _conflict("organization_conflict"):
        org = sb.create_organization(
            body["name"], body.get("display_name"), caller=caller_of(sb, req), **extra
        )
    return json_response(201, org)


def update_organization(sb: SandboxState, req: Request, id: str) -> Response:  # noqa: A002
    return _update(sb, req, id, _org, sb.update_organization, "organization_conflict")


def delete_organization(sb: SandboxState, req: Request, id: str) -> Response:  # noqa: A002
    _org(sb, id)
    sb.delete_organization(id, caller=caller_of(sb, req))
    return _empty(204)


def _org_members(add: bool) -> Callable[..., Response]:
    def handler(sb: SandboxState, req: Request, id: str) -> Response:  # noqa: A002
        _org(sb, id)
        # Only an addition checks the users exist: removing an unknown user removes nothing.
        members = _known_users(sb, req, "members") if add else _ids(req, "members")
        sb.change_organization_members(id, members, add, caller=caller_of(sb, req))
        return _empty(204)

    return handler


def _member_roles(add: bool) -> Callable[..., Response]:
    def handler(sb: SandboxState, req: Request, id: str, user_id: str) -> Response:  # noqa: A002
        _org(sb, id)
        if user_id not in sb.directory.members[id]:
            raise auth0_error(
                404, "The user is not a member of the organization.", "inexistent_member"
            )
        roles = _known_roles(sb, req)
        sb.change_member_roles(id, user_id, roles, add, caller=caller_of(sb, req))
        return _empty(204)

    return handler


def enable_connection(sb: SandboxState, req: Request, id: str) -> Response:  # noqa: A002
    _org(sb, id)
    body = _object(req, "connection_id")
    _connection(sb, str(body["connection_id"]))
    return json_response(201, sb.enable_org_connection(id, body, caller=caller_of(sb, req)))


def disable_connection(
    sb: SandboxState,
    req: Request,
    id: str,  # noqa: A002
    connectionId: str,  # noqa: N803 - Auth0's parameter name
) -> Response:
    _org(sb, id)
    if not sb.disable_org_connection(id, connectionId, caller=caller_of(sb, req)):
        raise auth0_error(
            404, "The connection is not enabled for this organization.", "inexistent_connection"
        )
    return _empty(204)


def create_invitation(sb: SandboxState, req: Request, id: str) -> Response:  # noqa: A002
    _org(sb, id)
    body = _object(req, "inviter", "invitee", "client_id")
    _client(sb, str(body["client_id"]))
    return json_response(201, sb.create_invitation(id, body, caller=caller_of(sb, req)))


def delete_invitation(
    sb: SandboxState,
    req: Request,
    id: str,  # noqa: A002
    invitation_id: str,
) -> Response:
    _org(sb, id)
    if not sb.delete_invitation(id, invitation_id, caller=caller_of(sb, req)):
        raise auth0_error(404, "The invitation does not exist.", "inexistent_invitation")
    return _empty(204)


# -- clients and connections ------------------------------------------------------------------
def create_client(sb: SandboxState, req: Request) -> Response:
    body = _object(req, "name")
    return json_response(201, sb.create_client(body, caller=caller_of(sb, req)))


def update_client(sb: SandboxState, req: Request, id: str) -> Response:  # noqa: A002
    _client(sb, id)
    return json_response(200, sb.update_client(id, _object(req), caller=caller_of(sb, req)))


def delete_client(sb: SandboxState, req: Request, id: str) -> Response:  # noqa: A002
    _client(sb, id)
    sb.delete_client(id, caller=caller_of(sb, req))
    return _empty(204)


def update_connection(sb: SandboxState, req: Request, id: str) -> Response:  # noqa: A002
    _connection(sb, id)
    body = _object(req)
    enabled = body.get("enabled_clients")
    if enabled is not None and (
        not isinstance(enabled, list) or not all(isinstance(c, str) for c in enabled)
    ):
        raise payload_error("Expected type array but found type object on enabled_clients.")
    return json_response(200, sb.update_connection(id, body, caller=caller_of(sb, req)))


def connection_clients(sb: SandboxState, req: Request, id: str) -> Response:  # noqa: A002
    _connection(sb, id)
    body = _sent(req)
    if not isinstance(body, list) or not all(
        isinstance(c, dict) and isinstance(c.get("client_id"), str) and "status" in c for c in body
    ):
        raise payload_error("Expected an array of {client_id, status}.")
    sb.set_connection_clients(id, body, caller=caller_of(sb, req))
    return _empty(204)


def delete_connection(sb: SandboxState, req: Request, id: str) -> Response:  # noqa: A002
    _connection(sb, id)
    return json_response(202, sb.delete_connection(id, caller=caller_of(sb, req)))


# (method, path, handler, scopes (any of, from the OpenAPI security), rate-limit family)
WRITES: list[tuple[str, str, Callable[..., Response], tuple[str, ...], str]] = [
    ("DELETE", "/users/{id}", delete_user, ("delete:users",), "users"),
    ("PATCH", "/users/{id}", update_user, ("update:users", "update:users_app_metadata"), "users"),
    (
        "POST",
        "/users/{id}/roles",
        _user_roles(True),
        ("create:role_members", "update:users"),
        "other",
    ),
    (
        "DELETE",
        "/users/{id}/roles",
        _user_roles(False),
        ("delete:role_members", "update:users"),
        "other",
    ),
    ("POST", "/users/{id}/permissions", _user_permissions(True), ("update:users",), "other"),
    ("DELETE", "/users/{id}/permissions", _user_permissions(False), ("update:users",), "other"),
    (
        "DELETE",
        audit.AUTH_METHOD,
        delete_authentication_method,
        ("delete:authentication_methods",),
        "other",
    ),
    (
        "DELETE",
        audit.AUTH_METHODS,
        delete_authentication_methods,
        ("delete:authentication_methods",),
        "other",
    ),
    ("DELETE", "/users/{user_id}/sessions", _revoke("sessions"), ("delete:sessions",), "other"),
    (
        "DELETE",
        "/users/{user_id}/refresh-tokens",
        _revoke("refresh_tokens"),
        ("delete:refresh_tokens",),
        "other",
    ),
    ("DELETE", "/sessions/{id}", delete_session, ("delete:sessions",), "other"),
    ("POST", "/roles", create_role, ("create:roles",), "other"),
    ("PATCH", "/roles/{id}", update_role, ("update:roles",), "other"),
    ("DELETE", "/roles/{id}", delete_role, ("delete:roles",), "other"),
    ("POST", "/roles/{id}/users", add_role_users, ("create:role_members", "update:roles"), "other"),
    ("POST", "/roles/{id}/permissions", _role_permissions(True), ("update:roles",), "other"),
    ("DELETE", "/roles/{id}/permissions", _role_permissions(False), ("update:roles",), "other"),
    ("POST", "/organizations", create_organization, ("create:organizations",), "organizations"),
    (
        "PATCH",
        "/organizations/{id}",
        update_organization,
        ("update:organizations",),
        "organizations",
    ),
    (
        "DELETE",
        "/organizations/{id}",
        delete_organization,
        ("delete:organizations",),
        "organizations",
    ),
    (
        "POST",
        "/organizations/{id}/members",
        _org_members(True),
        ("create:organization_members",),
        "organization_members",
    ),
    (
        "DELETE",
        "/organizations/{id}/members",
        _org_members(False),
        ("delete:organization_members",),
        "organization_members",
    ),
    (
        "POST",
        audit.MEMBER_ROLES,
        _member_roles(True),
        ("create:organization_member_roles",),
        "organization_member_roles",
    ),
    (
        "DELETE",
        audit.MEMBER_ROLES,
        _member_roles(False),
        ("delete:organization_member_roles",),
        "organization_member_roles",
    ),
    (
        "POST",
        audit.ORG_CONNECTIONS,
        enable_connection,
        ("create:organization_connections",),
        "organization_connections",
    ),
    (
        "DELETE",
        audit.ORG_CONNECTION,
        disable_connection,
        ("delete:organization_connections",),
        "organization_connections",
    ),
    ("POST", audit.INVITATIONS, create_invitation, ("create:organization_invitations",), "other"),
    ("DELETE", audit.INVITATION, delete_invitation, ("delete:organization_invitations",), "other"),
    ("POST", "/clients", create_client, ("create:clients",), "clients"),
    (
        "PATCH",
        "/clients/{id}",
        update_client,
        ("update:clients", "update:client_keys", "update:client_credentials"),
        "clients",
    ),
    ("DELETE", "/clients/{id}", delete_client, ("delete:clients",), "clients"),
    ("PATCH", "/connections/{id}", update_connection, ("update:connections",), "connections"),
    (
        "PATCH",
        "/connections/{id}/clients",
        connection_clients,
        ("update:connections",),
        "connections",
    ),
    ("DELETE", "/connections/{id}", delete_connection, ("delete:connections",), "connections"),
]
