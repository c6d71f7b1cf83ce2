"""HTTP plumbing and the ``Sandbox`` object that owns the tenant state.

Stdlib only: a ``ThreadingHTTPServer`` speaking HTTP/1.1 keep-alive (every response has a
Content-Length) with daemon threads. JSON answers are gzipped when the request accepts it, as
Auth0's are (``compress``). The /api/v2 pipeline mirrors where Auth0 applies things:
latency -> rate limit (429) -> injected faults -> authentication -> route, with the
``x-ratelimit-*`` headers on every /api/v2 answer.
"""

from __future__ import annotations

import copy
import gzip
import socket
import struct
import sys
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from . import admin, api
from .auth import TokenRegistry
from .config import SandboxConfig
from .data import day_anchor_ms, generate_users, make_connections
from .directory import Directory
from .errors import ApiError, auth0_error
from .exports import ExportJobs
from .faults import REPLACING, Faults, Spoiled
from .logs import LogStore, make_actors
from .messages import Request, Response, json_response
from .peruser import KINDS, PerUser
from .ratelimit import RateLimiter
from .stats import Stats
from .store import UserStore
from .tenant import Tenant
from .timeutil import parse_instant


class Sandbox:
    """A local Auth0 tenant: ``with Sandbox(cfg) as sb: ... sb.base_url``."""

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
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> Sandbox:
        """Bind and serve in a background daemon thread (idempotent)."""
        if self._httpd is not None:
            return self
        httpd = _Server((self.config.host, self.config.port), _Handler)
        httpd.sandbox = self
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.1},
            daemon=True,
            name="auth0-sandbox",
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("sandbox is not running")
        return self._httpd.server_address[1]

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
    def handle_api(self, req: Request) -> Response | Spoiled | None:
        """The /api/v2 pipeline; None means "reset the connection"."""
        cfg = self.config
        found = api.match(req.method, req.path)
        if found is None:
            endpoint, family = f"{req.method} {req.path}", "other"
        else:
            endpoint, family = found[0].template, found[0].family
        if cfg.latency_ms > 0:
            time.sleep(cfg.latency_ms / 1000)
        allowed, rl_headers = self.limiter.take(family)
        if not allowed:
            self.stats_obj.bump("rate_limited")
            resp = json_response(
                429,
                {
                    "statusCode": 429,
                    "error": "Too Many Requests",
                    "message": "Global limit has been reached",
                    "errorCode": "too_many_requests",
                },
                rl_headers,
            )
            self.stats_obj.record(endpoint, 429, family)
            return resp
        fault = self.faults.roll(cfg)
        if fault is not None:
            self.stats_obj.bump("faults_injected")
        if fault == "reset":
            self.stats_obj.record(endpoint, None, family)
            return None
        if fault in REPLACING:
            resp = self.faults.answer(fault, rl_headers)
            self.stats_obj.record(endpoint, resp.status, family)
            return resp
        try:
            scopes = api.authenticate(self, req)
            resp = api.route(self, req, scopes, found)
        except ApiError as exc:
            resp = json_response(exc.status, exc.body)
        resp.headers.update(rl_headers)
        self.stats_obj.record(endpoint, fault or resp.status, family)
        return resp if fault is None else Spoiled.of(fault, resp, cfg)

    def handle_download(self, req: Request) -> Response:
        status, error, job = self.exports.check_download(
            req.path, req.query, "authorization" in req.headers
        )
        self.stats_obj.record("GET /_downloads", status)
        if job is None:
            return Response(status, error.encode(), "application/xml")
        assert job.payload is not None
        payload = job.payload
        if job.truncate:  # a cut transfer: the file is whole, this download is not
            payload = payload[: max(10, len(payload) * 2 // 3)]
        return Response(
            200,
            payload,
            "application/gzip",
            {"ETag": f'"{job.id}"', "Accept-Ranges": "bytes"},
            chunks=64 * 1024,
        )


# Auth0 gzips an answer when the request accepts it. The go-auth0 recordings mark 58 of 62
# GET answers `uncompressed: true` (Go's transport undid the gzip); the other four are
# bodies of 1-15 bytes, and no 201, 202, 204 or DELETE answer was compressed.
MIN_COMPRESSED_BYTES = 20
# The level shapes the sandbox's own time and the bytes sent, hardly what decompressing costs
# the client: the fastest, so that the sandbox answers no slower than a tenant would.
GZIP_LEVEL = 1
_NEVER_COMPRESSED = frozenset({201, 202, 204})


def _accepts_gzip(accept_encoding: str | None) -> bool:
    """True when `Accept-Encoding` lists gzip (or *) without q=0."""
    for part in (accept_encoding or "").lower().split(","):
        coding, _, params = part.partition(";")
        if coding.strip() in ("gzip", "x-gzip", "*"):
            return params.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


def _compressible(method: str, resp: Response, accept_encoding: str | None) -> bool:
    return (
        resp.chunks == 0
        and resp.status not in _NEVER_COMPRESSED
        and method != "DELETE"
        and len(resp.body) >= MIN_COMPRESSED_BYTES
        and _accepts_gzip(accept_encoding)
    )


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False
    sandbox: Sandbox

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients dropping connections is normal here; only trace when verbose."""
        if self.sandbox.config.verbose:
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "auth0-sandbox"
    sys_version = ""

    def version_string(self) -> str:
        return self.server_version

    server: _Server

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        self._dispatch()

    do_POST = do_PATCH = do_DELETE = do_PUT = do_GET  # noqa: N815

    def _dispatch(self) -> None:
        sb = self.server.sandbox
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        query = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        headers = {k.lower(): v for k, v in self.headers.items()}
        req = Request(self.command, url.path, query, headers, body)
        path = url.path
        try:
            if path.startswith("/_sandbox/"):
                resp = admin.handle(sb, req)
            elif path.startswith("/_downloads/") and req.method == "GET":
                resp = sb.handle_download(req)
            elif path == "/oauth/token" and req.method == "POST":
                resp = api.oauth_token(sb, req)
                sb.stats_obj.record("POST /oauth/token", resp.status)
            elif path.startswith("/api/v2/"):
                maybe = sb.handle_api(req)
                if maybe is None:
                    self._reset()
                    return
                if isinstance(maybe, Spoiled):
                    maybe.write(self)
                    return
                resp = maybe
            else:
                raise auth0_error(404, "Not Found")
        except ApiError as exc:
            resp = json_response(exc.status, exc.body)
        except Exception as exc:  # keep serving; report like Auth0 would
            if sb.config.verbose:
                import traceback

                traceback.print_exc()
            resp = json_response(
                500,
                {
                    "statusCode": 500,
                    "error": "Internal Server Error",
                    "message": f"sandbox error: {exc}",
                },
            )
        self._send(resp)

    def _send(self, resp: Response) -> None:
        body, headers = resp.body, dict(resp.headers)
        if resp.content_type.startswith("application/json"):
            headers["Vary"] = "Accept-Encoding"
            if self.server.sandbox.config.compress and _compressible(
                self.command, resp, self.headers.get("Accept-Encoding")
            ):
                body = gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)
                headers["Content-Encoding"] = "gzip"
        self.send_response(resp.status)
        if resp.status != 204:
            self.send_header("Content-Type", resp.content_type)
            self.send_header("Content-Length", str(len(body)))
        for k, v in headers.items():
            self.send_header(k, v)
        try:
            if resp.status == 204 or resp.chunks > 0:
                self.end_headers()
                view = memoryview(body)
                for i in range(0, len(view), resp.chunks or 1):
                    self.wfile.write(view[i : i + resp.chunks])
            else:
                # Headers and body in one send: avoids Nagle/delayed-ACK stalls (~40 ms).
                self._headers_buffer.append(b"\r\n")
                self.wfile.write(b"".join(self._headers_buffer) + body)
                self._headers_buffer = []
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # client went away mid-response; nothing to do

    def _reset(self) -> None:
        """Drop the connection abruptly: RST (SO_LINGER 0), no response bytes at all."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.rfile.close()  # release the makefile reference so close() is real
            self.connection.close()
        except OSError:
            pass

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        if self.server.sandbox.config.verbose:
            sys.stderr.write(f"{self.address_string()} - {format % args}\n")
