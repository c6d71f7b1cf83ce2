"""The real `tap-auth0` console script as a subprocess: run to completion (`run_cli`), or
streamed line by line (`run_streamed`) so a test can signal it at a precise point."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import typing as t
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

TAP_BIN = str(Path(sys.executable).with_name("tap-auth0"))
CLI_TIMEOUT = 300.0  # run_cli's default
RUN_TIMEOUT = 120.0  # run_streamed's default (and the hardening tests' run_cli timeout)


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


def run_cli(
    config: dict[str, t.Any] | None,
    *args: str,
    state: dict | None = None,
    catalog: dict | None = None,
    env: t.Mapping[str, str] | None = None,
    raw_config: str | None = None,
    timeout: float = CLI_TIMEOUT,
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
