"""Tiny local HTTP stubs for answers the sandbox cannot give, and free loopback ports."""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
import typing as t
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    status: int = 200
    body: t.Any = b""
    headers: dict[str, str] = field(default_factory=dict)
    reset: bool = False  # drop the connection without an answer
    hang: float = 0.0  # sleep this long before answering


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


Handler = t.Callable[[Seen], Reply]


class StubServer:
    """A tiny threaded HTTP server whose answers come from `handler(seen) -> Reply`;
    it records every request (method, path, headers, body)."""

    def __init__(self, handler: Handler, host: str = "127.0.0.1") -> None:
        self.handler = handler
        self.seen: list[Seen] = []
        stub = self

        class _H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                seen = Seen(self.command, self.path, dict(self.headers.items()), body)
                stub.seen.append(seen)
                reply = stub.handler(seen)
                if reply.hang:
                    time.sleep(reply.hang)
                if reply.reset:
                    self.close_connection = True
                    linger = struct.pack("ii", 1, 0)
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
                    return
                payload = reply.body
                headers = dict(reply.headers)
                if isinstance(payload, (dict, list)):
                    payload = json.dumps(payload).encode()
                    headers.setdefault("Content-Type", "application/json; charset=utf-8")
                elif isinstance(payload, str):
                    payload = payload.encode()
                try:
                    self.send_response(reply.status)
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    self.close_connection = True

            do_POST = do_PATCH = do_DELETE = do_GET  # noqa: N815

            def log_message(self, *args: t.Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer((host, 0), _H)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.host = host
        self.port = self.httpd.server_address[1]
        self.base_url = f"http://{host}:{self.port}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> StubServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def free_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


JSON = {"Content-Type": "application/json; charset=utf-8"}
RATE = {"x-ratelimit-limit": "50", "x-ratelimit-remaining": "49", "x-ratelimit-reset": "0"}
