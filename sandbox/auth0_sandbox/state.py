"""The ``SandboxState``: one local Auth0 tenant's data (users, directory, tenant objects,
per-user data, logs, export jobs, tokens, rate limits, faults) and the admin operations and
ground truth the tests read. No HTTP here: the route handlers (api*.py, admin.py) take a
state, and server.py serves one, so neither imports the other's module in a loop.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from . import audit
from .audit import Caller, api_path
from .auth import TokenRegistry
from .config import SandboxConfig
from .data import day_anchor_ms, generate_users, make_connections
from .directory import Directory
from .exports import ExportJobs
from .faults import Faults
from .logs import LogStore, make_actors
from .peruser import KINDS, PerUser, enrollment
from .ratelimit import RateLimiter
from .stats import Stats
from .store import UserStore
from .tenant import Tenant
from .timeutil import iso_ms, now_ms, parse_instant

Doc = dict[str, Any]


class SandboxState:
    """A local Auth0 tenant's state; ``Sandbox`` (server.py) serves it over HTTP."""

    def __init__(self, config: SandboxConfig | None = None, **overrides: Any) -> None:
        self.config = config or SandboxConfig()
        for k, v in overrides.items():
            if not hasattr(self.config, k):
                raise TypeError(f"unknown SandboxConfig field '{k}'")
            setattr(self.config, k, v)
        cfg = self.config
        self.connections = make_connections(cfg.seed)
        users = generate_users(cfg.users, cfg.seed, cfg.tie_group_size)
        self.store = UserStore(
            users, cfg.seed, self.connections, lambda: self.config.index_lag_seconds
        )
        anchor = day_anchor_ms()
        self.directory = Directory(
            cfg.seed,
            users,
            self.connections,
            self.store.get,
            anchor,
            roles=cfg.roles,
            big_role_users=cfg.big_role_users,
            organizations=cfg.organizations,
            big_org_members=cfg.big_org_members,
        )
        self.tenant = Tenant(
            cfg.seed,
            tenant=cfg.tenant,
            marker=cfg.secret_marker,
            n_clients=cfg.clients,
            n_actions=cfg.actions,
            n_log_streams=cfg.log_streams,
            connections=self.connections,
            resource_servers=self.directory.resource_servers,
            user_ids=[u["user_id"] for u in users],
            anchor_ms=anchor,
        )
        self.peruser = PerUser(
            cfg.seed,
            anchor,
            self._permission_pool,
            lambda: [
                c["client_id"]
                for c in self.tenant.client_list()
                if c["app_type"] != "non_interactive"
            ],
            lambda: [r["identifier"] for r in self.directory.resource_servers],
        )
        self.logs = LogStore(
            cfg.seed,
            cfg.logs,
            cfg.log_days,
            cfg.log_late_fraction,
            anchor,
            self._log_actors,
            lambda: self.config.log_retention_days,
        )
        self.tokens = TokenRegistry(cfg.access_token, cfg.static_scopes)
        self.limiter = self._make_limiter()
        self.exports = ExportJobs(cfg, self.connections)
        self.stats_obj = Stats()
        self.faults = Faults(cfg.seed)
        self._port: int | None = None  # set while an HTTP server serves this state

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("sandbox is not running")
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://{self.config.host}:{self.port}"

    @property
    def audience(self) -> str:
        return self.config.audience or f"{self.base_url}/api/v2/"

    # -- test/admin API -------------------------------------------------------------------
    def truth(self) -> list[Doc]:
        """Current users exactly as GET /users/{id} returns them, in user_id order."""
        return self.store.truth()

    def update_user(
        self, user_id: str, *, log: bool = True, caller: Caller | None = None, **changes: Any
    ) -> Doc:
        """Apply changes (PATCH semantics) and set updated_at = now; KeyError if unknown.
        Logs "Update a User" unless ``log`` is False."""
        doc = self.store.update(user_id, changes)
        self._log_call(log, caller, "PATCH", "/users/{id}", {"id": user_id}, changes, 200, doc)
        return doc

    def create_user(self, *, log: bool = True, caller: Caller | None = None, **fields: Any) -> Doc:
        doc = self.store.create(fields)
        self._log_call(log, caller, "POST", "/users", {}, fields, 201, doc)
        return doc

    def delete_user(self, user_id: str, *, log: bool = True, caller: Caller | None = None) -> bool:
        """Delete a user; like Auth0, they leave every role and organization too. Logs
        ``sdu`` and "Delete a User"."""
        user = self.store.get(user_id)
        deleted = self.store.delete(user_id)
        if deleted and user is not None:
            self.directory.remove_user(user_id)
            self.peruser.forget(user_id)
            if log:
                conn_name = (user.get("identities") or [{}])[0].get("connection")
                conn = next((c for c in self.connections if c["name"] == conn_name), None)
                sdu = audit.user_deleted_event(
                    caller or self.admin_caller(), user, self.config.tenant, conn
                )
                self._log_call(
                    log, caller, "DELETE", "/users/{id}", {"id": user_id}, None, 204, {}, [sdu]
                )
        return deleted

    def touch(self, count: int, seed: int = 0) -> list[str]:
        """Update ``count`` pseudo-random users' user_metadata; returns their ids."""
        return self.store.touch(count, seed)

    def stats(self) -> Doc:
        return self.stats_obj.snapshot()

    def reset_stats(self) -> None:
        self.stats_obj.reset()

    def configure(self, **knobs: Any) -> Doc:
        """Change runtime knobs; returns the resulting config."""
        self.config.apply(knobs)
        if {"rate_limit_profile", "rate_limit_burst", "rate_limit_per_second"} & set(knobs):
            self.limiter = self._make_limiter()
        if "static_scopes" in knobs:
            self.tokens.set_static_scopes(self.config.static_scopes)
        return self.config.to_dict()

    def _make_limiter(self) -> RateLimiter:
        cfg = self.config
        return RateLimiter(cfg.rate_limit_profile, cfg.rate_limit_burst, cfg.rate_limit_per_second)

    # -- roles and organizations ----------------------------------------------------------
    def tenant_truth(self) -> Doc:
        """Everything but users exactly as the API serves it in full (API order, secrets
        included): resource_servers, roles, role_permissions{role_id}, role_users{role_id},
        organizations, organization_members{org_id} (with roles),
        organization_member_roles{org_id}{user_id}, organization_enabled_connections{org_id},
        organization_invitations{org_id}; clients, client_grants, connections (with options),
        connection_clients{connection_id}, grants, actions, log_streams; and
        user_permissions, user_authentication_methods, user_sessions, user_refresh_tokens
        ({user_id: [...]}, only users who have any: the others answer an empty list)."""
        out = self.directory.truth()
        out.update(self.tenant.truth(lambda uid: self.store.get(uid) is not None))
        out.update(self.per_user_truth())
        return out

    def per_user_truth(self) -> Doc:
        """``user_<kind>{user_id: [...]}`` for the current users who have any."""
        out: dict[str, dict[str, list[Doc]]] = {f"user_{k}": {} for k in KINDS}
        for user in sorted(self.store.snapshot(), key=lambda u: u["user_id"]):
            for kind in KINDS:
                docs = self.peruser.docs(kind, user)
                if docs:
                    out[f"user_{kind}"][user["user_id"]] = copy.deepcopy(docs)
        return out

    def planted_secrets(self) -> list[str]:
        """Every secret value the tenant holds (each contains ``secret_marker``), sorted."""
        found: set[str] = set()
        marker = self.config.secret_marker

        def walk(value: Any) -> None:
            if isinstance(value, str):
                if marker in value:
                    found.add(value)
            elif isinstance(value, dict):
                for v in value.values():
                    walk(v)
            elif isinstance(value, list):
                for v in value:
                    walk(v)

        walk(self.tenant.truth(lambda uid: True))
        walk(self.directory.truth()["resource_servers"])
        return sorted(found)

    def _permission_pool(self) -> list[Doc]:
        return [
            {
                "permission_name": s["value"],
                "description": s["description"],
                "resource_server_name": rs["name"],
                "resource_server_identifier": rs["identifier"],
            }
            for rs in self.directory.resource_servers
            for s in rs["scopes"]
        ]

    def create_role(
        self,
        name: str,
        description: str = "",
        permissions: list[Doc] | None = None,
        role_id: str | None = None,
        *,
        log: bool = True,
        caller: Caller | None = None,
    ) -> Doc:
        """A new role (ValueError if the name is taken); permissions as the API shows them."""
        role = self.directory.create_role(name, description, permissions, role_id)
        body = {"name": name, "description": description}
        self._log_call(log, caller, "POST", "/roles", {}, body, 200, role)
        return role

    def update_role(
        self, role_id: str, changes: Doc, *, log: bool = True, caller: Caller | None = None
    ) -> Doc:
        return self._patch(self.directory.update_role, "/roles/{id}", role_id, changes, log, caller)

    def delete_role(self, role_id: str, *, log: bool = True, caller: Caller | None = None) -> bool:
        """Remove a role with its users/permissions and from org members' roles."""
        ok = self.directory.delete_role(role_id)
        if ok:
            self._log_call(log, caller, "DELETE", "/roles/{id}", {"id": role_id}, {}, 200, {})
        return ok

    def add_role_users(
        self, role_id: str, user_ids: list[str], *, log: bool = True, caller: Caller | None = None
    ) -> int:
        """Assign users (KeyError for an unknown role or user); returns how many were new."""
        added = self.directory.add_role_users(role_id, user_ids)
        body = {"users": user_ids}
        self._log_call(log, caller, "POST", "/roles/{id}/users", {"id": role_id}, body, 200, {})
        return added

    def change_role_permissions(
        self,
        role_id: str,
        permissions: list[Doc],
        add: bool,
        *,
        log: bool = True,
        caller: Caller | None = None,
    ) -> None:
        """Associate or remove ``{resource_server_identifier, permission_name}`` pairs."""
        self.directory.change_role_permissions(role_id, permissions, add)
        method, status = ("POST", 201) if add else ("DELETE", 204)
        body = {"permissions": permissions}
        self._log_call(
            log, caller, method, "/roles/{id}/permissions", {"id": role_id}, body, status, {}
        )

    def change_user_roles(
        self,
        user_id: str,
        role_ids: list[str],
        add: bool,
        *,
        log: bool = True,
        caller: Caller | None = None,
    ) -> None:
        """Assign roles to a user or remove them (KeyError: unknown user or role)."""
        self.directory.change_user_roles(user_id, role_ids, add)
        method = "POST" if add else "DELETE"
        body = {"roles": role_ids}
        self._log_call(log, caller, method, "/users/{id}/roles", {"id": user_id}, body, 204, {})

    def change_user_permissions(
        self,
        user_id: str,
        permissions: list[Doc],
        add: bool,
        *,
        log: bool = True,
        caller: Caller | None = None,
    ) -> None:
        """Directly assign or remove permissions (KeyError: unknown user or permission)."""
        user = self._user(user_id)
        keys = {(p["resource_server_identifier"], p["permission_name"]) for p in permissions}
        kept = [
            d
            for d in self.peruser.docs("permissions", user)
            if (d["resource_server_identifier"], d["permission_name"]) not in keys
        ]
        if add:
            direct = [{"source_id": "", "source_name": "", "source_type": "DIRECT"}]
            kept += [
                {**self.directory.permission_doc(i, n), "sources": direct} for i, n in sorted(keys)
            ]
        kept.sort(key=lambda d: (d["resource_server_identifier"], d["permission_name"]))
        self.peruser.replace("permissions", user_id, list(enumerate(kept)))
        method, status = ("POST", 201) if add else ("DELETE", 204)
        body = {"permissions": permissions}
        self._log_call(
            log, caller, method, "/users/{id}/permissions", {"id": user_id}, body, status, {}
        )

    def delete_authentication_methods(
        self,
        user_id: str,
        method_id: str | None = None,
        *,
        log: bool = True,
        caller: Caller | None = None,
    ) -> bool:
        """Delete one authentication method (False if the user has no such method) or, with
        ``method_id`` None, all of them (KeyError: unknown user)."""
        user = self._user(user_id)
        items = self.peruser.items("authentication_methods", user)
        kept = [p for p in items if method_id is not None and p[1]["id"] != method_id]
        if method_id is not None and len(kept) == len(items):
            return False
        self.peruser.replace("authentication_methods", user_id, kept)
        if method_id is None:
            template, params = audit.AUTH_METHODS, {"id": user_id}
        else:
            template = audit.AUTH_METHOD
            params = {"id": user_id, "authentication_method_id": method_id}
        self._log_call(log, caller, "DELETE", template, params, None, 204, {})
        return True

    def delete_user_items(
        self, user_id: str, kind: str, *, log: bool = True, caller: Caller | None = None
    ) -> None:
        """All of a user's ``sessions`` or ``refresh_tokens`` revoked (KeyError: no user)."""
        self._user(user_id)
        self.peruser.replace(kind, user_id, [])
        template = "/users/{user_id}/" + kind.replace("_", "-")
        self._log_call(log, caller, "DELETE", template, {"user_id": user_id}, None, 202, {})

    def delete_session(
        self, session_id: str, *, log: bool = True, caller: Caller | None = None
    ) -> bool:
        """Revoke one session, whoever's it is (False if none has that id)."""
        for user in self.store.snapshot():
            items = self.peruser.items("sessions", user)
            kept = [p for p in items if p[1]["id"] != session_id]
            if len(kept) < len(items):
                self.peruser.replace("sessions", user["user_id"], kept)
                self._log_call(
                    log, caller, "DELETE", "/sessions/{id}", {"id": session_id}, None, 202, {}
                )
                return True
        return False

    def enroll(self, user_id: str, kind: str = "totp") -> Doc:
        """A user enrolls an MFA factor (what the Management API cannot do): the new
        authentication method, logged as ``gd_enrollment_complete``."""
        user = self._user(user_id)
        stamp = now_ms()
        doc = enrollment(user, kind, stamp)
        items = self.peruser.items("authentication_methods", user)
        self.peruser.replace("authentication_methods", user_id, [*items, (stamp, doc)])
        self.logs.record([audit.enrollment_event(self.admin_caller(), user, doc)])
        return copy.deepcopy(doc)

    def _user(self, user_id: str) -> Doc:
        user = self.store.get(user_id)
        if user is None:
            raise KeyError(user_id)
        return user

    def create_organization(
        self,
        name: str,
        display_name: str | None = None,
        *,
        log: bool = True,
        caller: Caller | None = None,
        **extra: Any,
    ) -> Doc:
        org = self.directory.create_organization(name, display_name, **extra)
        body = {"name": name, **({"display_name": display_name} if display_name else {}), **extra}
        self._log_call(log, caller, "POST", "/organizations", {}, body, 201, org)
        return org

    def update_organization(
        self, org_id: str, changes: Doc, *, log: bool = True, caller: Caller | None = None
    ) -> Doc:
        return self._patch(
            self.directory.update_organization, "/organizations/{id}", org_id, changes, log, caller
        )

    def delete_organization(
        self, org_id: str, *, log: bool = True, caller: Caller | None = None
    ) -> bool:
        ok = self.directory.delete_organization(org_id)
        if ok:
            params = {"id": org_id}
            self._log_call(log, caller, "DELETE", "/organizations/{id}", params, {}, 204, {})
        return ok

    def change_organization_members(
        self,
        org_id: str,
        user_ids: list[str],
        add: bool,
        *,
        log: bool = True,
        caller: Caller | None = None,
    ) -> int:
        """Add members (KeyError for an unknown org or user) or remove them (and their org
        roles); returns how many were new or removed."""
        d = self.directory
        change = d.add_organization_members if add else d.remove_organization_members
        changed = change(org_id, user_ids)
        method = "POST" if add else "DELETE"
        params, body = {"id": org_id}, {"members": user_ids}
        self._log_call(log, caller, method, "/organizations/{id}/members", params, body, 204, {})
        return changed

    def change_member_roles(
        self,
        org_id: str,
        user_id: str,
        role_ids: list[str],
        add: bool,
        *,
        log: bool = True,
        caller: Caller | None = None,
    ) -> list[str]:
        """Give an org member roles (KeyError if not a member / unknown role) or take them
        away (KeyError if not a member); returns the member's roles now."""
        d = self.directory
        change = d.assign_member_roles if add else d.remove_member_roles
        roles = change(org_id, user_id, role_ids)
        method = "POST" if add else "DELETE"
        params, body = {"id": org_id, "user_id": user_id}, {"roles": role_ids}
        self._log_call(log, caller, method, audit.MEMBER_ROLES, params, body, 204, {})
        return roles

    def enable_org_connection(
        self, org_id: str, body: Doc, *, log: bool = True, caller: Caller | None = None
    ) -> Doc:
        doc = self.directory.enable_connection(org_id, body["connection_id"], body)
        params = {"id": org_id}
        self._log_call(log, caller, "POST", audit.ORG_CONNECTIONS, params, body, 201, doc)
        return doc

    def disable_org_connection(
        self, org_id: str, conn_id: str, *, log: bool = True, caller: Caller | None = None
    ) -> bool:
        ok = self.directory.disable_connection(org_id, conn_id)
        if ok:
            params = {"id": org_id, "connectionId": conn_id}
            self._log_call(log, caller, "DELETE", audit.ORG_CONNECTION, params, None, 204, {})
        return ok

    def create_invitation(
        self, org_id: str, body: Doc, *, log: bool = True, caller: Caller | None = None
    ) -> Doc:
        inv = self.directory.create_invitation(org_id, body)
        params = {"id": org_id}
        self._log_call(log, caller, "POST", audit.INVITATIONS, params, body, 201, inv)
        return inv

    def delete_invitation(
        self, org_id: str, inv_id: str, *, log: bool = True, caller: Caller | None = None
    ) -> bool:
        ok = self.directory.delete_invitation(org_id, inv_id)
        if ok:
            params = {"id": org_id, "invitation_id": inv_id}
            self._log_call(log, caller, "DELETE", audit.INVITATION, params, None, 204, {})
        return ok

    # -- clients and connections ----------------------------------------------------------
    def create_client(self, body: Doc, *, log: bool = True, caller: Caller | None = None) -> Doc:
        doc = self.tenant.create_client(body)
        self._log_call(log, caller, "POST", "/clients", {}, body, 201, doc)
        return doc

    def update_client(
        self, client_id: str, changes: Doc, *, log: bool = True, caller: Caller | None = None
    ) -> Doc:
        return self._patch(
            self.tenant.update_client, "/clients/{id}", client_id, changes, log, caller
        )

    def delete_client(
        self, client_id: str, *, log: bool = True, caller: Caller | None = None
    ) -> bool:
        """Remove a client with its client grants and its connections' enabled-client entries."""
        ok = self.tenant.delete_client(client_id)
        if ok:
            params = {"id": client_id}
            self._log_call(log, caller, "DELETE", "/clients/{id}", params, None, 204, {})
        return ok

    def update_connection(
        self, conn_id: str, changes: Doc, *, log: bool = True, caller: Caller | None = None
    ) -> Doc:
        return self._patch(
            self.tenant.update_connection, "/connections/{id}", conn_id, changes, log, caller
        )

    def set_connection_clients(
        self,
        conn_id: str,
        changes: list[Doc],
        *,
        log: bool = True,
        caller: Caller | None = None,
    ) -> None:
        self.tenant.set_connection_clients(conn_id, changes)
        self._log_call(
            log, caller, "PATCH", "/connections/{id}/clients", {"id": conn_id}, changes, 204, {}
        )

    def delete_connection(
        self, conn_id: str, *, log: bool = True, caller: Caller | None = None
    ) -> Doc | None:
        """Remove a connection (organizations no longer enable it); Auth0's 202 answer
        ``{deleted_at}``, or None if there is no such connection."""
        if not self.tenant.delete_connection(conn_id):
            return None
        self.directory.remove_connection(conn_id)
        answer = {"deleted_at": iso_ms(now_ms())}
        params = {"id": conn_id}
        self._log_call(log, caller, "DELETE", "/connections/{id}", params, None, 202, answer)
        return answer

    # -- tenant logs and stats ------------------------------------------------------------
    def logs_truth(self) -> list[Doc]:
        """Every log event currently held (after retention), in log_id order, as served."""
        self.logs.apply_retention()
        return self.logs.truth()

    def append_logs(
        self, n: int, late_fraction: float = 0.03, seed: int | None = None
    ) -> list[str]:
        """Add ``n`` events ingested now (late ones dated minutes to hours ago); their ids."""
        return self.logs.append(n, late_fraction, seed)

    def expire_logs_before(self, when: datetime | str) -> int:
        """Drop held events dated before ``when`` (stats keep them); returns how many."""
        if isinstance(when, datetime):
            if when.tzinfo is None:
                when = when.replace(tzinfo=timezone.utc)
            when = when.isoformat()
        return self.logs.expire_before(parse_instant(when))

    def stats_truth(self) -> Doc:
        """``{"daily": [...], "active_users": n}`` as /stats/daily (no range) and
        /stats/active-users answer now."""
        return {"daily": self.logs.daily_rows(), "active_users": self.logs.active_users()}

    def _log_actors(self) -> Any:
        return make_actors(
            self.config.tenant,
            self.store.snapshot(),
            self.tenant.client_list(),
            self.connections,
            [self.directory.orgs[o] for o in self.directory.org_order.ids()],
            [r["identifier"] for r in self.directory.resource_servers],
        )

    # -- change log ---------------------------------------------------------------------------
    def admin_caller(self) -> Caller:
        """Who /_sandbox admin changes are logged as: the sandbox's own client."""
        return Caller(self.config.client_id, user_agent="auth0-sandbox-admin")

    def _patch(
        self,
        update: Callable[[str, Doc], Doc],
        template: str,
        obj_id: str,
        changes: Doc,
        log: bool,
        caller: Caller | None,
    ) -> Doc:
        """An update (PATCH semantics) of a role, organization, client or connection, logged
        with the changes as sent and the updated object as answered."""
        doc = update(obj_id, changes)
        self._log_call(log, caller, "PATCH", template, {"id": obj_id}, changes, 200, doc)
        return doc

    def _log_call(
        self,
        log: bool,
        caller: Caller | None,
        method: str,
        template: str,
        params: dict[str, str],
        body: Any,
        status: int,
        response: Any,
        before: list[Doc] | None = None,
    ) -> None:
        """Log a successful Management API call (after ``before``, e.g. an sdu) as ``sapi``."""
        if not log:
            return
        caller = caller or self.admin_caller()
        path = caller.path or api_path(template, **params)
        desc = audit.DESCRIPTIONS[(method, template)]
        event = audit.api_event(caller, desc, method, path, body, status, response)
        self.logs.record([*(before or []), event])

    def expire_tokens(self) -> int:
        """Every token issued so far (and the static one) now answers 401 expired."""
        return self.tokens.expire_all()

    # -- request pipeline -----------------------------------------------------------------
