"""Seeded RBAC and organization data: resource servers, roles, role users, organizations,
members (with their org roles), enabled connections and invitations.

Memberships reference real generated users and are read back through the user store, so a
member's ``email``/``name``/``picture`` are always current; deleting a user removes their
memberships (``remove_user``), as Auth0 does. Every list keeps Auth0's checkpoint order: items
sorted by (timestamp, id), which the opaque ``next`` cursor encodes.
"""

from __future__ import annotations

import bisect
import copy
import random
import string
import threading
from collections.abc import Callable
from typing import Any

from .data import DAY_MS, FIRST, LAST
from .timeutil import iso_ms, now_ms

Doc = dict[str, Any]
_ALNUM = string.ascii_letters + string.digits

RESOURCE_SERVERS: list[tuple[str, str, tuple[str, ...]]] = [
    ("Orders API", "https://orders.example.com/api/", ("orders", "invoices", "refunds")),
    ("Reports API", "https://reports.example.com/", ("reports", "dashboards")),
    ("Inventory API", "urn:inventory", ("stock", "warehouses", "suppliers")),
]
_VERBS = (("read", "Read"), ("create", "Create"), ("update", "Update"), ("delete", "Delete"))
ROLE_NAMES = [
    "admin",
    "editor",
    "viewer",
    "billing-admin",
    "support-agent",
    "auditor",
    "developer",
    "manager",
    "analyst",
    "owner",
    "security-officer",
    "content-moderator",
    "sales-rep",
    "hr-partner",
    "read-only",
]
ORG_NAMES = [
    "acme",
    "globex",
    "initech",
    "umbrella",
    "hooli",
    "stark-industries",
    "wayne-enterprises",
    "wonka",
    "cyberdyne",
    "soylent",
    "tyrell",
    "vandelay",
    "massive-dynamic",
    "oscorp",
    "aperture",
    "pied-piper",
]
_COLORS = ("#0059d6", "#eb5424", "#16214d", "#44c7f4", "#3a9d23")


def _id(rng: random.Random, prefix: str, n: int = 16) -> str:
    return prefix + "".join(rng.choice(_ALNUM) for _ in range(n))


class Seq:
    """Ids ordered by (stamp_ms, id): offset slices and checkpoint seeks in O(log n)."""

    def __init__(self) -> None:
        self.keys: list[tuple[int, str]] = []
        self.stamps: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self.keys)

    def __contains__(self, item_id: object) -> bool:
        return item_id in self.stamps

    def add(self, item_id: str, stamp: int) -> bool:
        if item_id in self.stamps:
            return False
        self.stamps[item_id] = stamp
        bisect.insort(self.keys, (stamp, item_id))
        return True

    def remove(self, item_id: str) -> bool:
        stamp = self.stamps.pop(item_id, None)
        if stamp is None:
            return False
        del self.keys[bisect.bisect_left(self.keys, (stamp, item_id))]
        return True

    def ids(self) -> list[str]:
        return [k[1] for k in self.keys]

    def window(self, start: int, count: int) -> list[str]:
        return [k[1] for k in self.keys[start : start + count]]

    def after(self, key: tuple[int, str] | None, count: int) -> list[tuple[int, str]]:
        """Up to ``count`` keys strictly after ``key`` (from the start when None)."""
        i = 0 if key is None else bisect.bisect_right(self.keys, key)
        return self.keys[i : i + count]


class Directory:
    """Thread-safe tenant RBAC/organization state, generated from ``seed``."""

    def __init__(
        self,
        seed: int,
        users: list[Doc],
        connections: list[Doc],
        get_user: Callable[[str], Doc | None],
        anchor_ms: int,
        *,
        roles: int,
        big_role_users: int,
        organizations: int,
        big_org_members: int,
    ) -> None:
        self.lock = threading.RLock()
        self._get_user = get_user
        self.connections = connections
        self.resource_servers: list[Doc] = []
        self.roles: dict[str, Doc] = {}
        self.role_order = Seq()
        self.role_permissions: dict[str, list[Doc]] = {}
        self.role_users: dict[str, Seq] = {}
        self.orgs: dict[str, Doc] = {}
        self.org_order = Seq()
        self.members: dict[str, Seq] = {}
        self.member_roles: dict[str, dict[str, list[str]]] = {}
        self.org_connections: dict[str, list[Doc]] = {}
        self.invitations: dict[str, list[Doc]] = {}
        self._rng = random.Random(f"directory:{seed}")
        self._generate(users, anchor_ms, roles, big_role_users, organizations, big_org_members)

    # -- generation -----------------------------------------------------------------------
    def _generate(
        self,
        users: list[Doc],
        anchor: int,
        n_roles: int,
        big_role: int,
        n_orgs: int,
        big_org: int,
    ) -> None:
        rng = self._rng
        user_ids = [u["user_id"] for u in users]
        span = 365 * DAY_MS
        self.clients = [_id(rng, "", 32) for _ in range(2)]
        permissions: list[Doc] = []
        for name, identifier, things in RESOURCE_SERVERS:
            scopes = [
                {"value": f"{verb}:{thing}", "description": f"{label} {thing.capitalize()}"}
                for thing in things
                for verb, label in _VERBS
            ]
            self.resource_servers.append(
                {
                    "id": "".join(rng.choice("0123456789abcdef") for _ in range(24)),
                    "name": name,
                    "identifier": identifier,
                    "scopes": scopes,
                }
            )
            permissions += [
                {
                    "permission_name": s["value"],
                    "description": s["description"],
                    "resource_server_name": name,
                    "resource_server_identifier": identifier,
                }
                for s in scopes
            ]
        for i in range(n_roles):
            base = ROLE_NAMES[i % len(ROLE_NAMES)]
            name = base if i < len(ROLE_NAMES) else f"{base}-{i // len(ROLE_NAMES) + 1}"
            role = {
                "id": _id(rng, "rol_"),
                "name": name,
                "description": f"{name.replace('-', ' ').capitalize()} role",
            }
            self._put_role(role, anchor - rng.randrange(span))
            k = rng.choice((0, 1, 2, 3, 5, 8))
            self.role_permissions[role["id"]] = copy.deepcopy(
                rng.sample(permissions, min(k, len(permissions)))
            )
            size = min(big_role, len(user_ids)) if i == 0 and big_role > 0 else _small(rng)
            for uid in rng.sample(user_ids, min(size, len(user_ids))):
                self.role_users[role["id"]].add(uid, anchor - rng.randrange(span))
        role_ids = list(self.roles)
        for i in range(n_orgs):
            base = ORG_NAMES[i % len(ORG_NAMES)]
            name = base if i < len(ORG_NAMES) else f"{base}-{i // len(ORG_NAMES) + 1}"
            org: Doc = {
                "id": _id(rng, "org_"),
                "name": name,
                "display_name": name.replace("-", " ").title(),
            }
            if rng.random() < 0.6:
                org["branding"] = {"logo_url": f"https://{name}.example.com/logo.png"}
                if rng.random() < 0.5:
                    org["branding"]["colors"] = {
                        "primary": rng.choice(_COLORS),
                        "page_background": "#ffffff",
                    }
            if rng.random() < 0.5:
                org["metadata"] = {
                    "tier": rng.choice(("free", "gold", "platinum")),
                    "region": rng.choice(("eu", "us", "au")),
                }
            oid = org["id"]
            self._put_org(org, anchor - rng.randrange(span))
            if i == 0 and big_org > 0:
                size = min(big_org, len(user_ids))
            else:
                size = 0 if rng.random() < 0.3 else _small(rng)
            for uid in rng.sample(user_ids, min(size, len(user_ids))):
                self.members[oid].add(uid, anchor - rng.randrange(span))
                if role_ids and rng.random() < 0.4:
                    self.member_roles[oid][uid] = rng.sample(
                        role_ids, min(len(role_ids), rng.choice((1, 1, 2)))
                    )
            conns = self.connections
            for conn in rng.sample(conns, rng.randint(0, min(10, len(conns)))):
                self.org_connections[oid].append(self._enabled_connection(conn, rng))
            for _ in range(rng.choice((0, 0, 1, 2, 3))):
                created = anchor - rng.randrange(14 * DAY_MS)
                self.invitations[oid].append(self._invitation(org, created, role_ids, rng))
            self.invitations[oid].sort(key=lambda d: (d["created_at"], d["id"]), reverse=True)

    def _enabled_connection(self, conn: Doc, rng: random.Random) -> Doc:
        return {
            "connection_id": conn["id"],
            "assign_membership_on_login": rng.random() < 0.5,
            "show_as_button": rng.random() < 0.8,
            "is_signup_enabled": conn["strategy"] == "auth0" and rng.random() < 0.5,
            "connection": {"name": conn["name"], "strategy": conn["strategy"]},
        }

    def _invitation(self, org: Doc, created: int, role_ids: list[str], rng: random.Random) -> Doc:
        ticket = "".join(rng.choice(_ALNUM) for _ in range(32))
        first, last = rng.choice(FIRST), rng.choice(LAST)
        inv: Doc = {
            "id": _id(rng, "uinv_"),
            "client_id": rng.choice(self.clients),
            "inviter": {"name": f"{rng.choice(FIRST).title()} {rng.choice(LAST).title()}"},
            "invitee": {"email": f"{first}.{last}{rng.randrange(1000)}@example.com"},
            "invitation_url": f"https://login.example.com/login?invitation={ticket}"
            f"&organization={org['id']}&organization_name={org['name']}",
            "ticket_id": ticket,
            "created_at": iso_ms(created),
            "expires_at": iso_ms(created + 7 * DAY_MS),
            "organization_id": org["id"],
        }
        if role_ids and rng.random() < 0.5:
            inv["roles"] = rng.sample(role_ids, 1)
        if self.connections and rng.random() < 0.5:
            inv["connection_id"] = rng.choice(self.connections)["id"]
        if rng.random() < 0.3:
            inv["app_metadata"] = {"plan": rng.choice(("free", "pro"))}
            inv["user_metadata"] = {"invited_by_team": rng.choice(("sales", "support"))}
        return inv

    def _put_role(self, role: Doc, stamp: int) -> None:
        self.roles[role["id"]] = role
        self.role_order.add(role["id"], stamp)
        self.role_permissions.setdefault(role["id"], [])
        self.role_users.setdefault(role["id"], Seq())

    def _put_org(self, org: Doc, stamp: int) -> None:
        oid = org["id"]
        self.orgs[oid] = org
        self.org_order.add(oid, stamp)
        self.members.setdefault(oid, Seq())
        self.member_roles.setdefault(oid, {})
        self.org_connections.setdefault(oid, [])
        self.invitations.setdefault(oid, [])

    # -- API views --------------------------------------------------------------------------
    def user_summary(self, user_id: str) -> Doc:
        """``{user_id, email, picture, name}`` as role users / members show them."""
        doc = self._get_user(user_id) or {}
        out: Doc = {"user_id": user_id}
        for key in ("email", "picture", "name"):
            if key in doc:
                out[key] = doc[key]
        return out

    def member_doc(self, org_id: str, user_id: str, with_roles: bool) -> Doc:
        doc = self.user_summary(user_id)
        if with_roles:
            doc["roles"] = [
                {"id": r, "name": self.roles[r]["name"]}
                for r in self.member_roles[org_id].get(user_id, [])
                if r in self.roles
            ]
        return doc

    def member_role_docs(self, org_id: str, user_id: str) -> list[Doc]:
        return [
            dict(self.roles[r])
            for r in self.member_roles[org_id].get(user_id, [])
            if r in self.roles
        ]

    def truth(self) -> Doc:
        """Everything, exactly as the API serves it (list order = API order)."""
        with self.lock:
            orgs = self.org_order.ids()
            out = {
                "resource_servers": copy.deepcopy(self.resource_servers),
                "roles": [dict(self.roles[r]) for r in self.role_order.ids()],
                "role_permissions": {
                    r: copy.deepcopy(self.role_permissions[r]) for r in self.role_order.ids()
                },
                "role_users": {
                    r: [self.user_summary(u) for u in self.role_users[r].ids()]
                    for r in self.role_order.ids()
                },
                "organizations": [copy.deepcopy(self.orgs[o]) for o in orgs],
                "organization_members": {
                    o: [self.member_doc(o, u, True) for u in self.members[o].ids()] for o in orgs
                },
                "organization_member_roles": {
                    o: {u: self.member_role_docs(o, u) for u in self.members[o].ids()} for o in orgs
                },
                "organization_enabled_connections": {
                    o: copy.deepcopy(self.org_connections[o]) for o in orgs
                },
                "organization_invitations": {o: copy.deepcopy(self.invitations[o]) for o in orgs},
            }
        return out

    # -- mutations --------------------------------------------------------------------------
    def create_role(
        self,
        name: str,
        description: str = "",
        permissions: list[Doc] | None = None,
        role_id: str | None = None,
    ) -> Doc:
        with self.lock:
            if any(r["name"] == name for r in self.roles.values()):
                raise ValueError(f"Role {name} already exists.")
            role = {"id": role_id or _id(self._rng, "rol_"), "name": name}
            role["description"] = description
            if role["id"] in self.roles:
                raise ValueError(f"role {role['id']} already exists")
            self._put_role(role, now_ms())
            self.role_permissions[role["id"]] = copy.deepcopy(list(permissions or []))
            return dict(role)

    def delete_role(self, role_id: str) -> bool:
        """Remove a role, its users and permissions, and it from every org member's roles."""
        with self.lock:
            if self.roles.pop(role_id, None) is None:
                return False
            self.role_order.remove(role_id)
            self.role_permissions.pop(role_id, None)
            self.role_users.pop(role_id, None)
            for per_org in self.member_roles.values():
                for uid, rids in list(per_org.items()):
                    if role_id in rids:
                        per_org[uid] = [r for r in rids if r != role_id]
            return True

    def add_role_users(self, role_id: str, user_ids: list[str]) -> int:
        with self.lock:
            seq = self.role_users[role_id]  # KeyError: unknown role
            self._check_users(user_ids)
            stamp = now_ms()
            return sum(seq.add(uid, stamp) for uid in user_ids)

    def create_organization(self, name: str, display_name: str | None = None, **extra: Any) -> Doc:
        with self.lock:
            if any(o["name"] == name for o in self.orgs.values()):
                raise ValueError("An organization with this name already exists.")
            org: Doc = {"id": extra.pop("id", None) or _id(self._rng, "org_"), "name": name}
            org["display_name"] = display_name or name
            org.update(copy.deepcopy(extra))
            self._put_org(org, now_ms())
            return copy.deepcopy(org)

    def delete_organization(self, org_id: str) -> bool:
        with self.lock:
            if self.orgs.pop(org_id, None) is None:
                return False
            self.org_order.remove(org_id)
            for table in (self.members, self.member_roles, self.org_connections, self.invitations):
                table.pop(org_id, None)
            return True

    def add_organization_members(self, org_id: str, user_ids: list[str]) -> int:
        with self.lock:
            seq = self.members[org_id]  # KeyError: unknown organization
            self._check_users(user_ids)
            stamp = now_ms()
            return sum(seq.add(uid, stamp) for uid in user_ids)

    def assign_member_roles(self, org_id: str, user_id: str, role_ids: list[str]) -> list[str]:
        with self.lock:
            if user_id not in self.members[org_id]:
                raise KeyError(user_id)
            for r in role_ids:
                if r not in self.roles:
                    raise KeyError(r)
            current = self.member_roles[org_id].setdefault(user_id, [])
            current += [r for r in role_ids if r not in current]
            return list(current)

    def update_role(self, role_id: str, changes: Doc) -> Doc:
        """PATCH name/description (KeyError: unknown role; ValueError: name taken)."""
        with self.lock:
            role = self.roles[role_id]
            name = changes.get("name", role["name"])
            if any(r["name"] == name and r["id"] != role_id for r in self.roles.values()):
                raise ValueError(f"Role {name} already exists.")
            role.update({k: v for k, v in changes.items() if k in ("name", "description")})
            return dict(role)

    def permission_doc(self, identifier: str, name: str) -> Doc:
        """A permission as role/user permission lists show it (KeyError if the API or the
        scope does not exist)."""
        for rs in self.resource_servers:
            if rs["identifier"] == identifier:
                for scope in rs["scopes"]:
                    if scope["value"] == name:
                        return {
                            "permission_name": name,
                            "description": scope["description"],
                            "resource_server_name": rs["name"],
                            "resource_server_identifier": identifier,
                        }
        raise KeyError(f"{identifier} {name}")

    def change_role_permissions(self, role_id: str, perms: list[Doc], add: bool) -> None:
        """Add or remove ``{resource_server_identifier, permission_name}`` pairs."""
        with self.lock:
            current = self.role_permissions[role_id]  # KeyError: unknown role
            keys = {(p["resource_server_identifier"], p["permission_name"]) for p in perms}
            kept = [
                p
                for p in current
                if (p["resource_server_identifier"], p["permission_name"]) not in keys
            ]
            if add:
                kept += [self.permission_doc(i, n) for i, n in sorted(keys)]
            self.role_permissions[role_id] = kept

    def change_user_roles(self, user_id: str, role_ids: list[str], add: bool) -> None:
        """Assign a user to roles or take them away (KeyError: unknown role or user)."""
        with self.lock:
            self._check_users([user_id])
            for r in role_ids:
                if r not in self.roles:
                    raise KeyError(r)
            stamp = now_ms()
            for r in role_ids:
                if add:
                    self.role_users[r].add(user_id, stamp)
                else:
                    self.role_users[r].remove(user_id)

    def update_organization(self, org_id: str, changes: Doc) -> Doc:
        """PATCH name/display_name/branding/metadata (KeyError; ValueError: name taken)."""
        with self.lock:
            org = self.orgs[org_id]
            name = changes.get("name", org["name"])
            if any(o["name"] == name and o["id"] != org_id for o in self.orgs.values()):
                raise ValueError("An organization with this name already exists.")
            for key, value in changes.items():
                if value is None:
                    org.pop(key, None)
                else:
                    org[key] = copy.deepcopy(value)
            return copy.deepcopy(org)

    def remove_organization_members(self, org_id: str, user_ids: list[str]) -> int:
        with self.lock:
            seq = self.members[org_id]  # KeyError: unknown organization
            removed = 0
            for uid in user_ids:
                if seq.remove(uid):
                    removed += 1
                    self.member_roles[org_id].pop(uid, None)
            return removed

    def remove_member_roles(self, org_id: str, user_id: str, role_ids: list[str]) -> list[str]:
        with self.lock:
            if user_id not in self.members[org_id]:
                raise KeyError(user_id)
            current = self.member_roles[org_id].get(user_id, [])
            self.member_roles[org_id][user_id] = [r for r in current if r not in role_ids]
            return list(self.member_roles[org_id][user_id])

    def enable_connection(self, org_id: str, conn_id: str, settings: Doc) -> Doc:
        """Enable (or re-set) a connection for an org (KeyError: org or connection)."""
        with self.lock:
            current = self.org_connections[org_id]
            conn = next((c for c in self.connections if c["id"] == conn_id), None)
            if conn is None:
                raise KeyError(conn_id)
            doc: Doc = {
                "connection_id": conn_id,
                "assign_membership_on_login": bool(settings.get("assign_membership_on_login")),
                "show_as_button": bool(settings.get("show_as_button", True)),
                "is_signup_enabled": bool(settings.get("is_signup_enabled", False)),
                "connection": {"name": conn["name"], "strategy": conn["strategy"]},
            }
            self.org_connections[org_id] = [d for d in current if d["connection_id"] != conn_id] + [
                doc
            ]
            return copy.deepcopy(doc)

    def disable_connection(self, org_id: str, conn_id: str) -> bool:
        return self._drop(self.org_connections, org_id, "connection_id", conn_id)

    def create_invitation(self, org_id: str, body: Doc) -> Doc:
        """A new invitation from an API body (client_id, inviter, invitee, ...)."""
        with self.lock:
            org = self.orgs[org_id]  # KeyError: unknown organization
            inv = self._invitation(org, now_ms(), [], self._rng)
            for key in (
                "client_id",
                "inviter",
                "invitee",
                "connection_id",
                "app_metadata",
                "user_metadata",
                "roles",
            ):
                if key in body:
                    inv[key] = copy.deepcopy(body[key])
                elif key in ("connection_id", "app_metadata", "user_metadata", "roles"):
                    inv.pop(key, None)
            self.invitations[org_id].insert(0, inv)  # newest first
            return copy.deepcopy(inv)

    def delete_invitation(self, org_id: str, invitation_id: str) -> bool:
        return self._drop(self.invitations, org_id, "id", invitation_id)

    def _drop(self, table: dict[str, list[Doc]], org_id: str, key: str, value: str) -> bool:
        """Remove an organization's entries whose ``key`` is ``value`` from one of its tables;
        whether there were any (KeyError: unknown organization)."""
        with self.lock:
            current = table[org_id]
            kept = [d for d in current if d[key] != value]
            table[org_id] = kept
            return len(kept) < len(current)

    def remove_connection(self, conn_id: str) -> None:
        """A deleted connection is no longer enabled for any organization."""
        with self.lock:
            for oid, docs in self.org_connections.items():
                self.org_connections[oid] = [d for d in docs if d["connection_id"] != conn_id]

    def remove_user(self, user_id: str) -> None:
        """A deleted user leaves every role and organization."""
        with self.lock:
            for seq in self.role_users.values():
                seq.remove(user_id)
            for oid, seq in self.members.items():
                if seq.remove(user_id):
                    self.member_roles[oid].pop(user_id, None)

    def _check_users(self, user_ids: list[str]) -> None:
        for uid in user_ids:
            if self._get_user(uid) is None:
                raise KeyError(uid)


def _small(rng: random.Random) -> int:
    return rng.choice((0, 1, 2, 3, 4, 5, 6, 8))
