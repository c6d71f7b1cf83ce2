#!/usr/bin/env python3
"""Two tenants, one after the other and side by side: the elapsed time of each way.

    .venv/bin/python scripts/bench_tenants.py [--users 2000] [--profile essentials]

Each tenant is a sandbox process of its own (its own rate limits, as two Auth0 tenants have)
with 150 ms latency and a rate-limit profile; `tap-auth0` reads each (the default streams)
into a file, as `meltano run tap-auth0--us ...` would hand them to a loader. Both ways start
from fresh sandboxes (full buckets). The figures are in docs/tenants.md.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import typing as t
from contextlib import ExitStack, contextmanager
from pathlib import Path

TAP = str(Path(sys.executable).with_name("tap-auth0"))
SANDBOX = str(Path(sys.executable).with_name("tap-auth0-sandbox"))
TOKEN = "tenants-bench-token"
TENANTS = ("acme-us", "acme-eu")


@contextmanager
def sandbox(tenant: str, seed: int, args: argparse.Namespace) -> t.Iterator[str]:
    """A sandbox process on a free port; its base URL."""
    with tempfile.TemporaryDirectory() as tmp:
        ready = Path(tmp, "url")
        proc = subprocess.Popen(
            [
                SANDBOX,
                "--port=0",
                f"--users={args.users}",
                f"--seed={seed}",
                f"--tenant={tenant}",
                f"--access-token={TOKEN}",
                f"--rate-limit-profile={args.profile}",
                f"--latency-ms={args.latency_ms}",
                f"--ready-file={ready}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 60
            while not ready.exists() or not ready.read_text().strip():
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"sandbox for {tenant} did not start")
                time.sleep(0.05)
            yield ready.read_text().strip()
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def start_tap(tenant: str, base_url: str, out: Path) -> subprocess.Popen:
    config = out.with_suffix(".config.json")
    config.write_text(json.dumps({"domain": base_url, "tenant": tenant, "access_token": TOKEN}))
    with out.open("wb") as sink:
        return subprocess.Popen(
            [TAP, "--config", str(config)], stdout=sink, stderr=subprocess.DEVNULL
        )


def check(tenant: str, out: Path, proc: subprocess.Popen) -> int:
    """The run succeeded and every record names its tenant; the record count."""
    if proc.wait() != 0:
        raise SystemExit(f"tap-auth0 for {tenant} exited {proc.returncode}")
    rows = [m for m in map(json.loads, out.read_text().splitlines()) if m["type"] == "RECORD"]
    assert rows and {m["record"]["tenant"] for m in rows} == {tenant}, tenant
    return len(rows)


Timing = tuple[float, dict[str, float], int]


def run(args: argparse.Namespace, *, parallel: bool, tmp: Path) -> Timing:
    """Both tenants from fresh sandboxes: the whole elapsed time, each tap's (side by side:
    from the common start), and the records."""
    with ExitStack() as stack:
        urls = [stack.enter_context(sandbox(n, i + 1, args)) for i, n in enumerate(TENANTS)]
        each: dict[str, float] = {}
        records = 0
        start = time.perf_counter()
        if parallel:
            procs = {
                n: start_tap(n, u, tmp / f"{n}.par.jsonl")
                for n, u in zip(TENANTS, urls, strict=True)
            }
            for name, proc in procs.items():
                records += check(name, tmp / f"{name}.par.jsonl", proc)
                each[name] = time.perf_counter() - start
        else:
            for name, url in zip(TENANTS, urls, strict=True):
                began = time.perf_counter()
                out = tmp / f"{name}.seq.jsonl"
                records += check(name, out, start_tap(name, url, out))
                each[name] = time.perf_counter() - began
        return time.perf_counter() - start, each, records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--profile", default="essentials", help="sandbox rate-limit profile")
    parser.add_argument("--latency-ms", type=int, default=150)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        sequential = run(args, parallel=False, tmp=tmp)
        parallel = run(args, parallel=True, tmp=tmp)
    print(
        f"2 tenants x {args.users:,} users (sandbox profile {args.profile}, "
        f"{args.latency_ms} ms latency), default streams, tap-auth0 into a file"
    )
    print("| way | elapsed s | per tenant s | records |")
    print("|---|---:|---|---:|")
    for way, (total, each, records) in (
        ("one after the other", sequential),
        ("side by side (two processes)", parallel),
    ):
        cells = ", ".join(f"{n} {s:.1f}" for n, s in each.items())
        print(f"| {way} | {total:.1f} | {cells} | {records:,} |")
    print(f"side by side takes {parallel[0] / sequential[0]:.0%} of one after the other")


if __name__ == "__main__":
    main()
