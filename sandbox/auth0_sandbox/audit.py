"""Log events for changes to the tenant, shaped like the recorded ones (go-auth0
TestLogManager_Search / _CheckpointPagination): ``sapi`` for a successful Management API call,
``fapi`` for a failed one, ``sdu`` when a user is deleted, ``gd_enrollment_complete`` when a
user enrolls an MFA factor. A change-capture reader parses exactly these, so the request
(method in lower case, the raw path, body as sent) and response must be Auth0's.

Bodies never carry secrets: every value under a secret-bearing key is replaced by "*****", as
Auth0 does for ``password`` (recorded) and, here, for client secrets, keys and connection
options' secrets too (not recorded: the sandbox's choice).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from .logs import STRATEGY_TYPE
from .timeutil import iso_ms, now_ms

Doc = dict[str, Any]
MASK = "*****"
_API_UA = "Other 0.0.0 / Other 0.0.0"  # top-level user_agent of every recorded sapi event
# Keys whose values are secrets wherever they appear in a body.
SECRET_KEYS = frozenset(
    {
        "password",
        "access_token",
        "refresh_token",
        "access_token_secret",
        "client_secret",
        "signing_keys",
        "encryption_key",
        "signing_secret",
        "sas_key",
        "customScripts",
        "configuration",
        "cert",
        "pkcs7",
        "privateKey",
        "private_key",
        "signingCert",
        "signing_cert",
        "httpAuthorization",
        "datadogApiKey",
        "splunkToken",
        "segmentWriteKey",
        "mixpanelServiceAccountPassword",
        "code",
        "secrets",
        "credentials",
    }
)
_NOT_SENT = object()

# /api/v2 path templates too long to spell out in every table that names them: here, the
# API routes (api_writes.WRITES) and the state's logged calls (state.py).
AUTH_METHODS = "/users/{id}/authentication-methods"
AUTH_METHOD = AUTH_METHODS + "/{authentication_method_id}"
MEMBER_ROLES = "/organizations/{id}/members/{user_id}/roles"
ORG_CONNECTIONS = "/organizations/{id}/enabled_connections"
ORG_CONNECTION = ORG_CONNECTIONS + "/{connectionId}"
INVITATIONS = "/organizations/{id}/invitations"
INVITATION = INVITATIONS + "/{invitation_id}"

# (METHOD, /api/v2 path template) -> the event description. Recorded: "Delete a User",
# "Create a User", "Create an Organization", "Delete organization", "Add members to an
# organization", "Create invitations to organization". The others follow the OpenAPI summary
# (or the task's wording where Auth0's log text is known to differ from it).
DESCRIPTIONS: dict[tuple[str, str], str] = {
    ("POST", "/users"): "Create a User",
    ("PATCH", "/users/{id}"): "Update a User",
    ("DELETE", "/users/{id}"): "Delete a User",
    ("POST", "/users/{id}/roles"): "Assign roles to a user",
    ("DELETE", "/users/{id}/roles"): "Removes roles from a user",
    ("POST", "/users/{id}/permissions"): "Assign Permissions to a User",
    ("DELETE", "/users/{id}/permissions"): "Remove Permissions from a User",
    ("DELETE", AUTH_METHOD): "Delete an authentication method by ID",
    ("DELETE", AUTH_METHODS): "Delete all authentication methods for the given user",
    ("DELETE", "/users/{user_id}/sessions"): "Delete sessions for user",
    ("DELETE", "/users/{user_id}/refresh-tokens"): "Delete refresh tokens for a user",
    ("DELETE", "/sessions/{id}"): "Delete session",
    ("POST", "/roles"): "Create a role",
    ("PATCH", "/roles/{id}"): "Update a role",
    ("DELETE", "/roles/{id}"): "Delete a role",
    ("POST", "/roles/{id}/users"): "Assign users to a role",
    ("POST", "/roles/{id}/permissions"): "Associate permissions with a role",
    ("DELETE", "/roles/{id}/permissions"): "Remove permissions from a role",
    ("POST", "/organizations"): "Create an Organization",
    ("PATCH", "/organizations/{id}"): "Update an Organization",
    ("DELETE", "/organizations/{id}"): "Delete organization",
    ("POST", "/organizations/{id}/members"): "Add members to an organization",
    ("DELETE", "/organizations/{id}/members"): "Remove members from an organization",
    ("POST", MEMBER_ROLES): "Assign user roles to an Organization member",
    ("DELETE", MEMBER_ROLES): "Delete user roles from an Organization member",
    ("POST", ORG_CONNECTIONS): "Add connections to an organization",
    ("DELETE", ORG_CONNECTION): "Delete connections from an organization",
    ("POST", INVITATIONS): "Create invitations to organization",
    ("DELETE", INVITATION): "Delete an invitation to an Organization",
    ("POST", "/clients"): "Create a client",
    ("PATCH", "/clients/{id}"): "Update a client",
    ("DELETE", "/clients/{id}"): "Delete a client",
    ("PATCH", "/connections/{id}"): "Update a connection",
    ("PATCH", "/connections/{id}/clients"): "Update enabled clients for a connection",
    ("DELETE", "/connections/{id}"): "Delete a connection",
}


@dataclass
class Caller:
    """Who made a Management API call, and what they sent (``body``/``query`` as received
    over HTTP; left unset, the state logs the body Auth0 would have received)."""

    client_id: str
    client_name: str = ""
    ip: str = "127.0.0.1"
    user_agent: str = "auth0-sandbox"
    scopes: tuple[str, ...] = ()
    body: Any = _NOT_SENT
    query: dict[str, str] = field(default_factory=dict)
    path: str | None = None  # the raw request path, when the call came over HTTP

    def sent(self, default: Any) -> Any:
        return default if self.body is _NOT_SENT else self.body


def api_path(template: str, **params: str) -> str:
    """``/api/v2`` + template with each parameter percent-encoded (``auth0%7C...``)."""
    return "/api/v2" + template.format(**{k: quote(v, safe="") for k, v in params.items()})


def mask(value: Any) -> Any:
    """A deep copy with every secret-bearing key's value replaced by "*****"."""
    if isinstance(value, dict):
        return {
            k: MASK if k in SECRET_KEYS and v is not None else mask(v) for k, v in value.items()
        }
    if isinstance(value, list):
        return [mask(v) for v in value]
    return copy.copy(value)


def _base(etype: str, description: str, caller: Caller) -> Doc:
    """Every key of a recorded sapi event, ``null`` where it does not apply."""
    return {
        "_id": "",
        "log_id": "",
        "date": iso_ms(now_ms()),
        "type": etype,
        "description": description,
        "connection": None,
        "connection_id": None,
        "organization_id": None,
        "organization_name": None,
        "client_id": caller.client_id,
        "client_name": caller.client_name,
        "ip": caller.ip,
        "hostname": None,
        "details": {},
        "user_id": None,
        "user_name": None,
        "user_agent": _API_UA,
        "audience": None,
        "strategy": None,
        "strategy_type": None,
        "isMobile": False,
        "location_info": None,
    }


def api_event(
    caller: Caller,
    description: str,
    method: str,
    path: str,
    body: Any,
    status: int,
    response: Any,
) -> Doc:
    """``sapi`` (2xx) or ``fapi`` (4xx/5xx) for one Management API call."""
    e = _base("sapi" if status < 400 else "fapi", description, caller)
    e["details"] = {
        "request": {
            "method": method.lower(),
            "path": path,
            "query": dict(caller.query),
            "userAgent": caller.user_agent,
            "body": mask(caller.sent(body)),
            "channel": "api",
            "ip": caller.ip,
            "auth": {
                "user": {},
                "strategy": "jwt",
                "credentials": {"scopes": list(caller.scopes)} if caller.scopes else {},
            },
        },
        "response": {"statusCode": status, "body": mask(response if response is not None else {})},
    }
    return e


def user_deleted_event(caller: Caller, user: Doc, tenant: str, connection: Doc | None) -> Doc:
    """``sdu`` as recorded (ruby-auth0 Logs__logs__from...): description ``user_id: <local
    id>``, the connection, details.body {tenant, connection}. The recording has ``user_id`` and
    ``user_name`` empty; here they carry the deleted user's (the task asks for them)."""
    uid = user["user_id"]
    e = _base("sdu", f"user_id: {uid.split('|', 1)[-1]}", caller)
    identity = (user.get("identities") or [{}])[0]
    name = identity.get("connection")
    e["connection"] = name
    e["client_id"] = None
    e["client_name"] = None
    if connection is not None:
        e["connection_id"] = connection["id"]
        e["strategy"] = connection["strategy"]
        e["strategy_type"] = STRATEGY_TYPE.get(connection["strategy"])
    e["user_id"] = uid
    e["user_name"] = user.get("email") or user.get("username") or user.get("phone_number") or ""
    e["details"] = {"body": {"tenant": tenant, "connection": name}}
    return e


def enrollment_event(caller: Caller, user: Doc, method: Doc) -> Doc:
    """``gd_enrollment_complete``: a user finished enrolling an MFA factor."""
    e = _base("gd_enrollment_complete", "Guardian - Enrollment complete", caller)
    e["user_id"] = user["user_id"]
    e["user_name"] = user.get("email") or user.get("username") or ""
    e["user_agent"] = "Chrome 120.0.0 / Mac OS X 10.15.7"
    e["details"] = {"authenticator": {"type": method["type"]}, "enrollment_id": method["id"]}
    return e
