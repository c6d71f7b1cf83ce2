"""What every `make bench` section shares: the tap run as its console script (CPU seconds,
peak RSS, final STATE), the sandbox as a process of its own, a catalog selecting streams, the
server-side request counter and the table cells. The sections import this; bench.py imports
the sections (no section imports bench.py)."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import typing as t
from pathlib import Path

from auth0_sandbox import Sandbox

TAP = str(Path(sys.executable).with_name("tap-auth0"))
CREDS = {"access_token": "bench-token"}
RECORD_COST_RUNS = 3


def catalog_selecting(config: dict, streams: set[str]) -> dict:
    """The tap's discovered catalog with exactly `streams` selected."""
    from tap_auth0.tap import TapAuth0

    return TapAuth0.catalog_selecting(config, streams)


def run_tap(
    config: dict,
    *,
    catalog: dict | None = None,
    env: dict[str, str] | None = None,
    state: dict | None = None,
) -> dict:
    """Run the real console script (from `state`, if given); time each RECORD line as it
    arrives. Also its CPU seconds (user + system, start-up included, from wait4), peak RSS
    and final STATE (`state`, to start the next run from, and its size)."""
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp, "config.json")
        cfg.write_text(json.dumps(config))
        cmd = [TAP, "--config", str(cfg)]
        if catalog is not None:
            cat = Path(tmp, "catalog.json")
            cat.write_text(json.dumps(catalog))
            cmd += ["--catalog", str(cat)]
        if state is not None:
            st = Path(tmp, "state.json")
            st.write_text(json.dumps(state))
            cmd += ["--state", str(st)]
        start = time.perf_counter()
        proc = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            bufsize=1 << 16,
            env={**os.environ, **env} if env else None,
        )
        times: list[float] = []
        last_state = b""
        hwm = HighWaterMark(proc.pid)
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith(b'{"type":"RECORD"'):
                times.append(time.perf_counter() - start)
            elif line.startswith(b'{"type":"STATE"'):
                last_state = line
        hwm.stop()
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"tap failed (status {status}) for {config}")
    final = json.loads(last_state)["value"] if last_state else {}
    return {
        "times": times,
        "records": len(times),
        "elapsed": elapsed,
        "cpu": usage.ru_utime + usage.ru_stime,
        "rss_mb": hwm.peak_kb / 1024,
        "state": final,
        "state_bytes": len(json.dumps(final, separators=(",", ":"))),
    }


class HighWaterMark:
    """The tap's own peak RSS (VmHWM), sampled from /proc while it runs. ru_maxrss from
    wait4 is no good here: it counts the pages the child shared with this process (and
    so with the sandbox's users) before exec."""

    def __init__(self, pid: int) -> None:
        import threading

        self.pid = pid
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        try:
            with open(f"/proc/{self.pid}/status") as fh:
                for line in fh:
                    if line.startswith("VmHWM:"):
                        self.peak_kb = max(self.peak_kb, int(line.split()[1]))
        except (OSError, ValueError):
            pass

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(0.05)

    def stop(self) -> None:
        self._sample()
        self._stop.set()
        self._thread.join()


class ServerCounter:
    """Samples the sandbox's count of successful Get a User answers over time: the rate
    the tenant sees, unaffected by how the tap buffers its output."""

    def __init__(self, sb: Sandbox, endpoint: str = "GET /api/v2/users/{id}") -> None:
        import threading

        self.sb, self.endpoint = sb, endpoint
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            stats = self.sb.stats()
            ok = stats.get("by_endpoint", {}).get(self.endpoint, 0) - stats.get("rate_limited", 0)
            self.samples.append((time.perf_counter(), ok))
            self._stop.wait(0.1)

    def __enter__(self) -> ServerCounter:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def steady_rate(self) -> float:
        """Requests/s over the middle of the run (from 40% to 90% of the requests):
        the burst and its refill are spent, the tail's drain is left out."""
        total = self.samples[-1][1]
        lo = next(s for s in self.samples if s[1] >= 0.4 * total)
        hi = next(s for s in self.samples if s[1] >= 0.9 * total)
        return (hi[1] - lo[1]) / (hi[0] - lo[0]) if hi[0] > lo[0] else 0.0


def throttle_cell(throttled: int, requests: int) -> str:
    """The "429s / requests" cell: the count, and its share of the requests."""
    return f"{throttled} / {requests} ({100 * throttled / max(requests, 1):.1f}%)"


def cost_cells(config: dict, catalog: dict, records: int) -> str:
    """A record-cost row's measured cells from RECORD_COST_RUNS runs: the run with the median
    CPU seconds gives elapsed s, CPU s, records per CPU-second, peak RSS MB and STATE bytes;
    then the records per CPU-second range across the runs (a shared machine drifts)."""
    runs = sorted(
        (run_tap(config, catalog=catalog) for _ in range(RECORD_COST_RUNS)),
        key=lambda r: r["cpu"],
    )
    assert all(r["records"] == records for r in runs), f"short of {records} records"
    res = runs[len(runs) // 2]
    return (
        f"{res['elapsed']:.1f} | {res['cpu']:.2f} | {records / res['cpu']:,.0f} "
        f"| {res['rss_mb']:.0f} | {res['state_bytes']} "
        f"| {records / runs[-1]['cpu']:,.0f}-{records / runs[0]['cpu']:,.0f}"
    )


@contextlib.contextmanager
def sandbox_process(users: int, *, logs: int = 0, compress: bool = True) -> t.Iterator[str]:
    """The sandbox as a process of its own (`tap-auth0-sandbox`), as a tenant is: in the
    bench's process it would share one interpreter lock with the reader of the tap's output,
    and the tap's CPU seconds would swing with it. Yields its base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    cmd = [
        str(Path(sys.executable).with_name("tap-auth0-sandbox")),
        f"--users={users}",
        "--seed=5",
        "--export-seconds=2",
        f"--access-token={CREDS['access_token']}",
        f"--port={port}",
        f"--logs={logs}",
        "--compress" if compress else "--no-compress",
    ]
    with tempfile.TemporaryFile("w+") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, text=True)
        try:
            while proc.poll() is None:  # its first line says it is listening
                log.seek(0)
                if "listening on" in log.read():
                    break
                time.sleep(0.2)
            else:
                raise SystemExit(f"the sandbox did not start: {cmd}")
            yield f"http://127.0.0.1:{port}"
        finally:
            proc.terminate()
            proc.wait(timeout=30)
