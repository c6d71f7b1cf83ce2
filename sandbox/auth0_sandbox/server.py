"""HTTP plumbing: ``Sandbox`` serves one ``SandboxState`` (state.py) on loopback.

Stdlib only: a ``ThreadingHTTPServer`` speaking HTTP/1.1 keep-alive (every response has a
Content-Length) with daemon threads. JSON answers are gzipped when the request accepts it, as
Auth0's are (``compress``). The /api/v2 pipeline mirrors where Auth0 applies things:
latency -> rate limit (429) -> injected faults -> authentication -> route, with the
``x-ratelimit-*`` headers on every /api/v2 answer.
"""

from __future__ import annotations

import gzip
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from . import admin, api
from .errors import ApiError, auth0_error
from .faults import REPLACING, Spoiled
from .messages import Request, Response, json_response
from .state import SandboxState


class Sandbox(SandboxState):
    """A local Auth0 tenant: ``with Sandbox(cfg) as sb: ... sb.base_url``."""

    _httpd: _Server | None = None
    _thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> Sandbox:
        """Bind and serve in a background daemon thread (idempotent)."""
        if self._httpd is not None:
            return self
        httpd = _Server((self.config.host, self.config.port), _Handler)
        httpd.sandbox = self
        self._httpd = httpd
        self._port = httpd.server_address[1]
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
        self._port = None
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
