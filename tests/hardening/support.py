"""Shared machinery for the hardening tests: the real `tap-auth0` console script run as a
subprocess (streamed line by line, so a test can signal it at a precise point), tiny
local HTTP stubs for answers the sandbox cannot give, and a figures board printed at the
end of the pytest run."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import typing as t
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

TAP_BIN = str(Path(sys.executable).with_name("tap-auth0"))
RUN_TIMEOUT = 120.0

# Figures each test reports; conftest prints them in the terminal summary.
FIGURES: list[str] = []


def report(line: str) -> None:
    FIGURES.append(line)
    print(line)


# -- running the console script --------------------------------------------------------------
def write_json(directory: Path, name: str, data: t.Any) -> Path:
    path = directory / name
    path.write_text(json.dumps(data))
    return path


def tap_env(extra: t.Mapping[str, str] | None = None) -> dict[str, str]:
    """The test's environment without TAP_AUTH0_* settings (they would override files)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAP_AUTH0_")}
    env.pop("LOGLEVEL", None)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


def run_tap(
    config: dict[str, t.Any] | None,
    *args: str,
    state: dict | None = None,
    catalog: dict | None = None,
    env: t.Mapping[str, str] | None = None,
    raw_config: str | None = None,
    timeout: float = RUN_TIMEOUT,
) -> subprocess.CompletedProcess:
    """`tap-auth0 --config ... [--state ...] [--catalog ...] *args`, to completion."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [TAP_BIN]
        if config is not None or raw_config is not None:
            path = Path(tmp, "config.json")
            path.write_text(raw_config if raw_config is not None else json.dumps(config))
            cmd += ["--config", str(path)]
        if state is not None:
            cmd += ["--state", str(write_json(Path(tmp), "state.json", state))]
        if catalog is not None:
            cmd += ["--catalog", str(write_json(Path(tmp), "catalog.json", catalog))]
        return subprocess.run(
            [*cmd, *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=tap_env(env),
            stdin=subprocess.DEVNULL,
            check=False,
        )


def messages(stdout: str) -> list[dict[str, t.Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def record_ids(msgs: t.Iterable[dict], stream: str) -> set[str]:
    return {m["record"]["user_id"] for m in msgs if m["type"] == "RECORD" and m["stream"] == stream}


LOG_PREFIX = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ \| \w+ +\| [\w.\-]+ +\| ")


def stderr_lines(stderr: str) -> list[str]:
    """What a user reads: log lines without their timestamp/level/logger prefix."""
    return [LOG_PREFIX.sub("", line) for line in stderr.splitlines() if line.strip()]


def last_stderr_line(stderr: str) -> str:
    lines = stderr_lines(stderr)
    return lines[-1] if lines else ""


# -- a streamed run that a test can interrupt ---------------------------------------------------
@dataclass
class Progress:
    """What one attempt emitted so far, for kill triggers."""

    counts: Counter = field(default_factory=Counter)
    states: int = 0
    lines: int = 0
    last: dict | None = None
    stderr: list[str] = field(default_factory=list)


Trigger = t.Callable[[Progress], bool]


@dataclass
class Attempt:
    """One run of the console script: complete messages, and where it stopped."""

    msgs: list[dict[str, t.Any]]
    partial_tail: bool
    returncode: int
    stderr: str
    fired: bool
    seconds: float

    @property
    def last_state(self) -> dict | None:
        states = [m["value"] for m in self.msgs if m["type"] == "STATE"]
        return states[-1] if states else None

    def committed(self) -> list[dict[str, t.Any]]:
        """Messages up to the last STATE: what a target has committed when it dies."""
        last = max((i for i, m in enumerate(self.msgs) if m["type"] == "STATE"), default=-1)
        return self.msgs[: last + 1]


def run_streamed(
    config: dict[str, t.Any],
    *,
    state: dict | None = None,
    catalog: dict | None = None,
    trigger: Trigger | None = None,
    action: t.Callable[[subprocess.Popen], None] | None = None,
    sig: int = signal.SIGKILL,
    external: threading.Event | None = None,
    env: t.Mapping[str, str] | None = None,
    timeout: float = RUN_TIMEOUT,
) -> Attempt:
    """Run the tap reading stdout line by line. When `trigger(progress)` first holds
    (checked after every stdout and stderr line) or `external` is set, `action(proc)` runs
    (default: send `sig`). Reads to EOF: every complete line was emitted before the end."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [TAP_BIN, "--config", str(write_json(Path(tmp), "config.json", config))]
        if state is not None:
            cmd += ["--state", str(write_json(Path(tmp), "state.json", state))]
        if catalog is not None:
            cmd += ["--catalog", str(write_json(Path(tmp), "catalog.json", catalog))]
        started = time.monotonic()
        proc = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            env=tap_env(env),
        )
        progress = Progress()
        fired = threading.Event()
        lock = threading.Lock()

        def fire() -> None:
            with lock:
                if fired.is_set() or proc.poll() is not None:
                    return
                fired.set()
                if action is not None:
                    action(proc)
                else:
                    proc.send_signal(sig)

        def check() -> None:
            if trigger is not None and not fired.is_set() and trigger(progress):
                fire()

        def read_stderr() -> None:
            assert proc.stderr is not None
            for raw in proc.stderr:
                progress.stderr.append(raw.decode(errors="replace"))
                check()

        def watch_external() -> None:
            assert external is not None
            while proc.poll() is None:
                if external.wait(0.01):
                    fire()
                    return

        threads = [threading.Thread(target=read_stderr, daemon=True)]
        if external is not None:
            threads.append(threading.Thread(target=watch_external, daemon=True))
        for th in threads:
            th.start()
        msgs: list[dict[str, t.Any]] = []
        partial = False
        timed_out = threading.Event()

        def on_timeout() -> None:
            timed_out.set()
            proc.kill()

        killer = threading.Timer(timeout, on_timeout)
        killer.start()
        try:
            assert proc.stdout is not None
            for raw in proc.stdout:
                if not raw.endswith(b"\n"):
                    partial = True  # cut by the kill mid-line; only ever the last one
                    continue
                assert not partial, "a complete line after a partial one"
                msg = json.loads(raw)
                msgs.append(msg)
                progress.lines += 1
                progress.last = msg
                if msg["type"] == "RECORD":
                    progress.counts[msg["stream"]] += 1
                elif msg["type"] == "STATE":
                    progress.states += 1
                check()
            returncode = proc.wait()
        finally:
            killer.cancel()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        for th in threads:
            th.join(timeout=10)
        assert not timed_out.is_set(), f"tap still running after {timeout}s: {cmd}"
        return Attempt(
            msgs=msgs,
            partial_tail=partial,
            returncode=returncode,
            stderr="".join(progress.stderr),
            fired=fired.is_set(),
            seconds=time.monotonic() - started,
        )


# -- local HTTP stubs ---------------------------------------------------------------------
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


def intercept(sb: t.Any, fault: t.Callable[[Seen], Reply | None]) -> t.Callable[[], None]:
    """Let `fault` answer the sandbox's /api/v2 requests (None: the sandbox answers), for
    failures the sandbox cannot produce (HTML, malformed JSON, 404...) in the middle of
    a run. Patches the instance's `handle_api` (None from it = reset the connection);
    returns the undo."""
    from urllib.parse import urlencode

    from auth0_sandbox.messages import Response

    original = type(sb).handle_api.__get__(sb)

    def handle_api(req: t.Any) -> t.Any:
        query = f"?{urlencode(req.query)}" if req.query else ""
        reply = fault(Seen(req.method, req.path + query, req.headers, req.body))
        if reply is None:
            return original(req)
        if reply.reset:
            return None
        body = reply.body
        headers = dict(reply.headers)
        ctype = headers.pop("Content-Type", "application/json; charset=utf-8")
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        return Response(reply.status, body, ctype, headers)

    sb.handle_api = handle_api
    return lambda: sb.__dict__.pop("handle_api", None)


def free_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


JSON = {"Content-Type": "application/json; charset=utf-8"}
RATE = {"x-ratelimit-limit": "50", "x-ratelimit-remaining": "49", "x-ratelimit-reset": "0"}
