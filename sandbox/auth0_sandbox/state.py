"""The ``SandboxState``: one local Auth0 tenant's data (users, directory, tenant objects,
per-user data, logs, export jobs, tokens, rate limits, faults) and the admin operations and
ground truth the tests read. No HTTP here: the route handlers (api*.py, admin.py) take a
state, and server.py serves one, so neither imports the other's module in a loop.
"""

from __future__ import annotations

import copy
from datetime import datetime, timezone
from typing import Any

from .auth import TokenRegistry
from .config import SandboxConfig
from .data import day_anchor_ms, generate_users, make_connections
from .directory import Directory
from .exports import ExportJobs
from .faults import Faults
from .logs import LogStore, make_actors
from .peruser import KINDS, PerUser
from .ratelimit import RateLimiter
from .stats import Stats
from .store import UserStore
from .tenant import Tenant
from .timeutil import parse_instant


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
    def truth(self) -> list[dict[str, Any]]:
        """Current users exactly as GET /users/{id} returns them, in user_id order."""
        return self.store.truth()

    def update_user(self, user_id: str, **changes: Any) -> dict[str, Any]:
        """Apply changes (PATCH semantics) and set updated_at = now; KeyError if unknown."""
        return self.store.update(user_id, changes)

    def create_user(self, **fields: Any) -> dict[str, Any]:
        return self.store.create(fields)

    def delete_user(self, user_id: str) -> bool:
        """Delete a user; like Auth0, they leave every role and organization too."""
        deleted = self.store.delete(user_id)
        if deleted:
            self.directory.remove_user(user_id)
        return deleted

    def touch(self, count: int, seed: int = 0) -> list[str]:
        """Update ``count`` pseudo-random users' user_metadata; returns their ids."""
        return self.store.touch(count, seed)

    def stats(self) -> dict[str, Any]:
        return self.stats_obj.snapshot()

    def reset_stats(self) -> None:
        self.stats_obj.reset()

    def configure(self, **knobs: Any) -> dict[str, Any]:
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
    def tenant_truth(self) -> dict[str, Any]:
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

    def per_user_truth(self) -> dict[str, Any]:
        """``user_<kind>{user_id: [...]}`` for the current users who have any."""
        out: dict[str, dict[str, list[dict[str, Any]]]] = {f"user_{k}": {} for k in KINDS}
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

    def _permission_pool(self) -> list[dict[str, Any]]:
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
        permissions: list[dict[str, Any]] | None = None,
        role_id: str | None = None,
    ) -> dict[str, Any]:
        """A new role (ValueError if the name is taken); permissions as the API shows them."""
        return self.directory.create_role(name, description, permissions, role_id)

    def delete_role(self, role_id: str) -> bool:
        """Remove a role with its users/permissions and from org members' roles."""
        return self.directory.delete_role(role_id)

    def add_role_users(self, role_id: str, user_ids: list[str]) -> int:
        """Assign users (KeyError for an unknown role or user); returns how many were new."""
        return self.directory.add_role_users(role_id, user_ids)

    def create_organization(
        self, name: str, display_name: str | None = None, **extra: Any
    ) -> dict[str, Any]:
        return self.directory.create_organization(name, display_name, **extra)

    def delete_organization(self, org_id: str) -> bool:
        return self.directory.delete_organization(org_id)

    def add_organization_members(self, org_id: str, user_ids: list[str]) -> int:
        """Add members (KeyError for an unknown org or user); returns how many were new."""
        return self.directory.add_organization_members(org_id, user_ids)

    def assign_member_roles(self, org_id: str, user_id: str, role_ids: list[str]) -> list[str]:
        """Give an org member roles (KeyError if not a member / unknown role)."""
        return self.directory.assign_member_roles(org_id, user_id, role_ids)

    # -- tenant logs and stats ------------------------------------------------------------
    def logs_truth(self) -> list[dict[str, Any]]:
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

    def stats_truth(self) -> dict[str, Any]:
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

    def expire_tokens(self) -> int:
        """Every token issued so far (and the static one) now answers 401 expired."""
        return self.tokens.expire_all()

    # -- request pipeline -----------------------------------------------------------------
