"""Route handlers for roles and organizations (``/api/v2/roles*``, ``/api/v2/organizations*``).

Envelopes follow the go-auth0 recordings: offset ``{<key>, start, limit, total}`` (invitations
never send ``total``; enabled connections and invitations report ``limit`` = items returned, as
recorded), checkpoint ``{<key>, next?}``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .auth import require
from .errors import auth0_error, query_error
from .listing import list_page, offset_page
from .messages import Request, Response, json_response
from .paging import (
    bool_param,
    is_checkpoint,
    projector,
    requested_fields,
)

if TYPE_CHECKING:
    from .state import SandboxState

Doc = dict[str, Any]
MEMBER_ROLES_SCOPE = "read:organization_member_roles"


def role_404() -> Exception:
    return auth0_error(404, "The role does not exist.", "inexistent_role")


def org_404() -> Exception:
    return auth0_error(404, "No organization found by that id or name")


# -- roles ------------------------------------------------------------------------------------
def list_roles(sb: SandboxState, req: Request) -> Response:
    d = sb.directory
    needle = (req.query.get("name_filter") or "").lower()
    with d.lock:
        roles = [d.roles[r] for r in d.role_order.ids()]
        if needle:
            roles = [r for r in roles if needle in r["name"].lower()]
        return offset_page(req.query, roles, "roles", dict)


def get_role(sb: SandboxState, req: Request, id: str) -> Response:  # noqa: A002
    """Get a Role: ``{id, name, description}``."""
    return _one(sb.directory, sb.directory.roles, id, role_404)


def role_permissions(sb: SandboxState, req: Request, id: str) -> Response:  # noqa: A002
    d = sb.directory
    with d.lock:
        if id not in d.roles:
            raise role_404()
        return offset_page(req.query, d.role_permissions[id], "permissions", dict)


def role_users(sb: SandboxState, req: Request, id: str) -> Response:  # noqa: A002
    d = sb.directory
    with d.lock:
        if id not in d.roles:
            raise role_404()
        return list_page(req.query, d.role_users[id], "users", d.user_summary)


# -- organizations ----------------------------------------------------------------------------
def list_organizations(sb: SandboxState, req: Request) -> Response:
    d = sb.directory
    with d.lock:
        return list_page(req.query, d.org_order, "organizations", lambda o: dict(d.orgs[o]))


def get_organization(sb: SandboxState, req: Request, id: str) -> Response:  # noqa: A002
    """Get an Organization by id."""
    return _one(sb.directory, sb.directory.orgs, id, org_404)


def _one(d: Any, items: dict[str, Doc], item_id: str, missing: Any) -> Response:
    with d.lock:
        if item_id not in items:
            raise missing()
        return json_response(200, dict(items[item_id]))


def org_members(sb: SandboxState, req: Request, id: str) -> Response:  # noqa: A002
    q = req.query
    names, include = requested_fields(q)
    with_roles = include and "roles" in names
    if with_roles:
        require(req.scopes, (MEMBER_ROLES_SCOPE,))
    project = projector(q)
    d = sb.directory
    with d.lock:
        if id not in d.orgs:
            raise org_404()
        return list_page(
            q, d.members[id], "members", lambda u: project(d.member_doc(id, u, with_roles))
        )


def member_roles(sb: SandboxState, req: Request, id: str, user_id: str) -> Response:  # noqa: A002
    d = sb.directory
    with d.lock:
        if id not in d.orgs:
            raise org_404()
        return offset_page(req.query, d.member_role_docs(id, user_id), "roles", dict)


def enabled_connections(sb: SandboxState, req: Request, id: str) -> Response:  # noqa: A002
    d = sb.directory
    with d.lock:
        if id not in d.orgs:
            raise org_404()
        return offset_page(
            req.query, d.org_connections[id], "enabled_connections", dict, limit_is_count=True
        )


def invitations(sb: SandboxState, req: Request, id: str) -> Response:  # noqa: A002
    q = req.query
    if is_checkpoint(q) or q.get("from"):
        name = "take" if is_checkpoint(q) else "from"
        raise query_error(f"'Additional properties not allowed: {name}'.")
    bool_param(q, "include_fields", True)
    project = projector(q)
    d = sb.directory
    with d.lock:
        if id not in d.orgs:
            raise org_404()
        return offset_page(
            q,
            d.invitations[id],
            "invitations",
            project,
            cap=True,
            with_total=False,
            limit_is_count=True,
        )
