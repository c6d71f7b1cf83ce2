"""`make bench ARGS="--only default-run"`: 429s of a default run under each tier's rate limits.

A default run (no catalog: the tap's default selection) against the sandbox's `free`,
`essentials` and `enterprise` profiles at 150 ms latency. Every stream's first request goes
to an endpoint whose bucket the tap has not seen yet; the scheduler has it wait for the
bucket it most likely draws from (ratelimit.py `SchedulerPool`). Target: at most 1% 429s
on every profile.
"""

from __future__ import annotations

import time

from auth0_sandbox import Sandbox, SandboxConfig
from benchkit import CREDS, run_tap, throttle_cell

PROFILES = [
    ("free", "Free (one bucket: 2 burst, 2/s)"),
    ("essentials", "Essentials (per-family buckets)"),
    ("enterprise", "Enterprise (50 burst, 16/s; per-family organization buckets)"),
]


def tenant(quick: bool) -> dict:
    """A tenant every default stream and fan-out has something in: over a hundred requests
    (roles and organizations fan out per role and per organization), so that 1% is a 429."""
    return {
        "users": 40 if quick else 150,
        "roles": 8 if quick else 20,
        "organizations": 6 if quick else 20,
        "logs": 300,
        "seed": 23,
    }


def bench_default_run(quick: bool) -> list[str]:
    size = tenant(quick)
    rows = [
        f"Tenant: {size['users']} users, {size['roles']} roles, {size['organizations']} "
        f"organizations, {size['logs']} log events; 150 ms latency; no catalog (the default "
        "selection); one run per profile.",
        "",
        "| profile | endpoints | requests | 429s / requests | elapsed s | 429s by endpoint |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for profile, label in PROFILES:
        cfg = SandboxConfig(latency_ms=150, rate_limit_profile=profile, **size, **CREDS)
        with Sandbox(cfg) as sb:
            time.sleep(0.5)
            sb.reset_stats()
            res = run_tap({"domain": sb.base_url, "tenant": "sandbox", **CREDS})
            stats = sb.stats()
        api = {k: v for k, v in stats["by_endpoint"].items() if "/api/v2/" in k}
        requests, throttled = sum(api.values()), stats.get("rate_limited", 0)
        by_route = stats.get("rate_limited_by_endpoint", {})
        named = ", ".join(f"{k.split('/api/v2')[1]} {v}" for k, v in sorted(by_route.items()))
        rows.append(
            f"| {label} | {len(api)} | {requests} | {throttle_cell(throttled, requests)} "
            f"| {res['elapsed']:.1f} | {named or '-'} |"
        )
        print(rows[-1], flush=True)
    return rows


def sections(quick: bool) -> list[tuple[str, list[str]]]:
    return [("Default run: 429s per rate profile, 150 ms latency", bench_default_run(quick))]
