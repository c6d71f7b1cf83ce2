"""What the tenant log says changed: one table of (method, path pattern) -> nominations.

Every Management API change is logged as an `sapi` event whose `details.request` holds the
method, the path and the body, and `details.response.statusCode` the outcome (the recorded
`TestLogManager_Search` payloads). Deletions also log `sdu` / `du`, MFA enrolments `gd_*`,
both with the user's id. From those events this module nominates what a run re-reads:
users, roles and organizations by id, whole small tables, and child rows the log says were
removed (each confirmed later by a re-read that no longer lists it: nothing is deleted on
the log's word alone).
"""

from __future__ import annotations

import functools
import re
import typing as t
from dataclasses import dataclass, field
from urllib.parse import unquote

Body = t.Any
Key = tuple[str, ...]


@dataclass
class Nominations:
    """What the events since the last run name, by kind."""

    users: set[str] = field(default_factory=set)  # re-read: Get a User and its rows
    users_deleted: set[str] = field(default_factory=set)  # confirm: Get a User says 404
    roles: set[str] = field(default_factory=set)  # Get a Role, its permissions and members
    organizations: set[str] = field(default_factory=set)  # Get an Organization, children
    connections: set[str] = field(default_factory=set)  # a connection's enabled clients
    tables: set[str] = field(default_factory=set)  # small tables re-read whole
    # stream -> {key the log says was removed: its parent's id}; a re-read of that parent
    # that no longer lists the key confirms it.
    removed: dict[str, dict[Key, str]] = field(default_factory=dict)
    events: int = 0  # events seen
    used: int = 0  # events that nominated something
    by_rule: dict[str, int] = field(default_factory=dict)  # rule name -> events
    unresolved: dict[str, int] = field(default_factory=dict)  # changes it cannot scope

    def remove(self, stream: str, parent: str, *key: str) -> None:
        self.removed.setdefault(stream, {})[tuple(key)] = parent

    @property
    def empty(self) -> bool:
        return not (
            self.users
            or self.users_deleted
            or self.roles
            or self.organizations
            or self.connections
            or self.tables
        )

    def summary(self) -> str:
        parts = [
            f"{len(v)} {name}"
            for name, v in (
                ("user(s)", self.users | self.users_deleted),
                ("deletion(s) to confirm", self.users_deleted),
                ("role(s)", self.roles),
                ("organization(s)", self.organizations),
                ("connection(s)", self.connections),
            )
            if v
        ]
        if self.tables:
            parts.append(f"table(s) {', '.join(sorted(self.tables))}")
        named = "; ".join(parts) or "nothing"
        return f"{self.events} log event(s), {self.used} naming a change: {named}"


@dataclass(frozen=True)
class Change:
    """One parsed Management API call."""

    method: str  # upper case
    ids: dict[str, str]  # path parameters, decoded
    body: Body
    response: Body


Apply = t.Callable[[Change, Nominations], None]


def _ids(body: Body, key: str) -> list[str]:
    """The string ids in `body[key]` (a list of ids or of objects with `id`)."""
    values = body.get(key) if isinstance(body, dict) else None
    out: list[str] = []
    for v in values if isinstance(values, list) else ():
        if isinstance(v, str):
            out.append(v)
        elif isinstance(v, dict) and isinstance(v.get("id"), str):
            out.append(v["id"])
    return out


def _permissions(body: Body) -> list[tuple[str, str]]:
    values = body.get("permissions") if isinstance(body, dict) else None
    return [
        (p["resource_server_identifier"], p["permission_name"])
        for p in (values if isinstance(values, list) else ())
        if isinstance(p, dict)
        and isinstance(p.get("resource_server_identifier"), str)
        and isinstance(p.get("permission_name"), str)
    ]


def _created_id(c: Change, key: str = "id") -> str | None:
    value = c.response.get(key) if isinstance(c.response, dict) else None
    return value if isinstance(value, str) and value else None


# -- what each change nominates ------------------------------------------------------------
def _user(c: Change, n: Nominations) -> None:
    n.users.add(c.ids["user"])


def _user_deleted(c: Change, n: Nominations) -> None:
    n.users_deleted.add(c.ids["user"])


def _user_roles(c: Change, n: Nominations) -> None:
    uid = c.ids["user"]
    n.users.add(uid)
    for rid in _ids(c.body, "roles"):
        n.roles.add(rid)
        if c.method == "DELETE":
            n.remove("role_members", rid, rid, uid)


def _permission_changes(stream: str, kind: str, path_id: str) -> Apply:
    """Permissions granted or revoked on a user or a role: the owner is re-read, and each
    revoked permission is a removal to confirm."""

    def apply(c: Change, n: Nominations) -> None:
        owner = c.ids[path_id]
        getattr(n, kind).add(owner)
        if c.method == "DELETE":
            for rs, name in _permissions(c.body):
                n.remove(stream, owner, owner, rs, name)

    return apply


def _user_method_deleted(c: Change, n: Nominations) -> None:
    uid = c.ids["user"]
    n.users.add(uid)
    n.remove("user_authentication_methods", uid, uid, c.ids["method"])


def _role(c: Change, n: Nominations) -> None:
    rid = c.ids.get("role") or _created_id(c)
    if rid:
        n.roles.add(rid)


def _role_users(c: Change, n: Nominations) -> None:
    n.roles.add(c.ids["role"])
    n.users.update(_ids(c.body, "users"))


def _organization(c: Change, n: Nominations) -> None:
    oid = c.ids.get("org") or _created_id(c)
    if oid:
        n.organizations.add(oid)


def _org_members(c: Change, n: Nominations) -> None:
    oid = c.ids["org"]
    n.organizations.add(oid)
    if c.method == "DELETE":
        for uid in _ids(c.body, "members"):
            n.remove("organization_members", oid, oid, uid)


def _org_member_roles(c: Change, n: Nominations) -> None:
    oid, uid = c.ids["org"], c.ids["user"]
    n.organizations.add(oid)
    if c.method == "DELETE":
        for rid in _ids(c.body, "roles"):
            n.remove("organization_member_roles", oid, oid, uid, rid)


def _org_connection(c: Change, n: Nominations) -> None:
    oid = c.ids["org"]
    n.organizations.add(oid)
    if c.method == "DELETE":
        n.remove("organization_connections", oid, oid, c.ids["connection"])


def _org_invitation(c: Change, n: Nominations) -> None:
    n.organizations.add(c.ids["org"])
    if c.method == "DELETE":
        n.remove("organization_invitations", c.ids["org"], c.ids["invitation"])


def _tables(*names: str) -> Apply:
    """Small tables re-read whole; an item deleted by id (`{item}` in the path) is a removal
    from the first, confirmed when the re-read no longer lists it (a tombstone, which also
    reaches loaders that ignore ACTIVATE_VERSION)."""

    def apply(c: Change, n: Nominations) -> None:
        n.tables.update(names)
        if c.method == "DELETE" and c.ids.get("item"):
            n.remove(names[0], TABLE, c.ids["item"])

    return apply


def _client(c: Change, n: Nominations) -> None:
    n.tables.add("clients")
    if c.method == "DELETE" and c.ids.get("item"):
        n.remove("clients", TABLE, c.ids["item"])
    if c.method in ("POST", "DELETE"):
        # A client's grants go with it, and it joins or leaves connections' enabled clients.
        n.tables.update(("client_grants", "connection_clients"))


def _connection(c: Change, n: Nominations) -> None:
    n.tables.add("connections")
    if c.method == "DELETE" and c.ids.get("connection"):
        n.remove("connections", TABLE, c.ids["connection"])
    cid = c.ids.get("connection") or _created_id(c)
    if cid and c.method != "DELETE":
        n.connections.add(cid)


def _connection_clients(c: Change, n: Nominations) -> None:
    n.connections.add(c.ids["connection"])


def _unresolved(why: str) -> Apply:
    def apply(c: Change, n: Nominations) -> None:
        n.unresolved[why] = n.unresolved.get(why, 0) + 1

    return apply


_SEG = r"[^/]+"
_U = rf"/users/(?P<user>{_SEG})"
_R = rf"/roles/(?P<role>{_SEG})"
_O = rf"/organizations/(?P<org>{_SEG})"
_I = rf"(?P<item>{_SEG})"  # an item of a small table
_W = "POST|PATCH|PUT|DELETE"  # every write
TABLE = ""  # the parent of a small table's items (they have none)


@dataclass(frozen=True)
class Rule:
    name: str
    methods: str  # "POST|DELETE"
    pattern: str  # after /api/v2
    apply: Apply


# The one table. First match wins; paths are Auth0's Management API v2 (openapi spec).
RULES: tuple[Rule, ...] = (
    Rule("user deleted", "DELETE", _U, _user_deleted),
    Rule("user updated (blocked, metadata…)", "PATCH", _U, _user),
    Rule("user roles", "POST|DELETE", rf"{_U}/roles", _user_roles),
    Rule(
        "user permissions",
        "POST|DELETE",
        rf"{_U}/permissions",
        _permission_changes("user_permissions", "users", "user"),
    ),
    Rule(
        "user MFA factor deleted",
        "DELETE",
        rf"{_U}/authentication-methods/(?P<method>{_SEG})",
        _user_method_deleted,
    ),
    Rule(
        "user MFA factors, sessions, tokens, identities",
        _W,
        rf"{_U}/(authentication-methods|authenticators|multifactor/{_SEG}|sessions|"
        rf"refresh-tokens|identities(/{_SEG}/{_SEG})?|recovery-code-regeneration)",
        _user,
    ),
    Rule("user unblocked", "DELETE", rf"/user-blocks/(?P<user>{_SEG})", _user),
    Rule(
        "session or token revoked by id",
        "DELETE",
        rf"/(sessions|refresh-tokens)/{_SEG}",
        _unresolved("a session or refresh token revoked by its id (no user in the path)"),
    ),
    Rule("role created", "POST", "/roles", _role),
    Rule("role changed or deleted", "PATCH|DELETE", _R, _role),
    Rule("role members", "POST", rf"{_R}/users", _role_users),
    Rule(
        "role permissions",
        "POST|DELETE",
        rf"{_R}/permissions",
        _permission_changes("role_permissions", "roles", "role"),
    ),
    Rule("organization created", "POST", "/organizations", _organization),
    Rule("organization renamed or deleted", "PATCH|DELETE", _O, _organization),
    Rule("organization members", "POST|DELETE", rf"{_O}/members", _org_members),
    Rule(
        "organization member roles",
        "POST|DELETE",
        rf"{_O}/members/(?P<user>{_SEG})/roles",
        _org_member_roles,
    ),
    Rule("organization connection added", "POST", rf"{_O}/enabled_connections", _organization),
    Rule(
        "organization connection changed or removed",
        "PATCH|DELETE",
        rf"{_O}/enabled_connections/(?P<connection>{_SEG})",
        _org_connection,
    ),
    Rule("organization invitation created", "POST", rf"{_O}/invitations", _organization),
    Rule(
        "organization invitation deleted",
        "DELETE",
        rf"{_O}/invitations/(?P<invitation>{_SEG})",
        _org_invitation,
    ),
    Rule("client", _W, rf"/clients(/{_I})?", _client),
    Rule(
        "client secret or credentials",
        _W,
        rf"/clients/{_SEG}/(rotate-secret|credentials(/{_SEG})?)",
        _tables("clients"),
    ),
    Rule("client grant", _W, rf"/client-grants(/{_I})?", _tables("client_grants")),
    Rule(
        "resource server",
        _W,
        rf"/resource-servers(/{_I})?",
        _tables("resource_servers", "client_grants"),
    ),
    Rule(
        "connection enabled clients",
        "PATCH",
        rf"/connections/(?P<connection>{_SEG})/clients",
        _connection_clients,
    ),
    Rule("connection", _W, rf"/connections(/(?P<connection>{_SEG}))?", _connection),
    Rule("action deployed", "POST", rf"/actions/actions/{_SEG}/deploy", _tables("actions")),
    Rule("action", _W, rf"/actions/actions(/{_I})?", _tables("actions")),
    Rule("log stream", _W, rf"/log-streams(/{_I})?", _tables("log_streams")),
    Rule("user consent (grant) revoked", "DELETE", rf"/grants(/{_I})?", _tables("grants")),
)


@functools.cache
def _compiled() -> tuple[tuple[Rule, re.Pattern[str]], ...]:
    """The rules' path regexes, compiled on the first event parsed: a run that reads no log
    (a full pass, change capture off, `--about`) does not pay for compiling the table."""
    return tuple((r, re.compile(rf"(?:/api/v2)?{r.pattern}/?")) for r in RULES)


def parse(event: t.Mapping[str, t.Any]) -> tuple[Change, Rule] | None:
    """The rule an `sapi` event matches, with its decoded path ids; None for reads,
    failures and calls that change nothing the tap reads."""
    details = event.get("details")
    if not isinstance(details, dict):
        return None
    request, response = details.get("request"), details.get("response")
    if not isinstance(request, dict) or not isinstance(response, dict):
        return None
    status = response.get("statusCode")
    if not isinstance(status, int) or not 200 <= status < 300:
        return None
    method = str(request.get("method") or "").upper()
    path = str(request.get("path") or "").split("?", 1)[0]
    for rule, regex in _compiled():
        if method not in rule.methods.split("|"):
            continue
        m = regex.fullmatch(path)
        if m:
            ids = {k: unquote(v) for k, v in m.groupdict().items() if v is not None}
            return Change(method, ids, request.get("body"), response.get("body")), rule
    return None


def observe(event: t.Mapping[str, t.Any], n: Nominations) -> None:
    """Add what one log event names to `n`."""
    n.events += 1
    etype = event.get("type")
    uid = event.get("user_id")
    rule_name: str | None = None
    if etype == "sapi":
        parsed = parse(event)
        if parsed is not None:
            change, rule = parsed
            rule.apply(change, n)
            rule_name = rule.name
    elif etype in ("sdu", "du") and isinstance(uid, str) and uid:
        n.users_deleted.add(uid)
        rule_name = f"{etype}: user deleted"
    elif etype in GUARDIAN_CHANGES and isinstance(uid, str) and uid:
        n.users.add(uid)
        rule_name = f"{etype}: MFA enrolment changed"
    if rule_name is not None:
        n.used += 1
        n.by_rule[rule_name] = n.by_rule.get(rule_name, 0) + 1


# Guardian events that change a user's enrolled factors (not the sign-in ones).
GUARDIAN_CHANGES = frozenset(
    {
        "gd_enrollment_complete",
        "gd_unenroll",
        "gd_update_device_account",
        "gd_recovery_succeed",
    }
)
