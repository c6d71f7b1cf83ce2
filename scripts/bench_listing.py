"""`make bench ARGS="--only listing"`: the `users` listing against each tier's limit, and what a
record costs end to end.

1. Listing at 150 ms latency under the sandbox's Enterprise, Essentials and free rate-limit
   profiles: users/s measured at the server (Search Users answers over the middle of the run,
   times users per answer), its share of the tier's sustained limit x 100 users per request,
   and the 429 share; concurrent keyset windows (the default, up to `max_concurrency` 8)
   beside one chain (`users_list_windows` 1), in the same run.
2. End to end through the console script, no latency and no limit: records per CPU-second of
   the tap process (start-up included, from wait4's rusage; the median of three runs), peak
   RSS and the final STATE's size, at 60,000 and 200,000 users; the export path at 200,000
   for comparison. Answers come gzipped, as Auth0 sends them (the sandbox's `compress`); at
   60,000 users also uncompressed (`--no-compress`), to show what decompressing costs.
"""

from __future__ import annotations

import time

from auth0_sandbox import Sandbox, SandboxConfig
from benchkit import (
    CREDS,
    ServerCounter,
    catalog_selecting,
    cost_cells,
    run_tap,
    sandbox_process,
    throttle_cell,
)

LISTING = "GET /api/v2/users"
# sandbox profile, label, burst, sustained requests/s, users (windows run ~10-20 s)
PROFILES = [
    ("enterprise", "Enterprise (50 burst, 16/s)", 50, 16.0, 24_000),
    ("essentials", "Essentials Read Users (40 burst, 500/min)", 40, 500 / 60, 16_000),
    ("free", "Free (2 burst, 2/s)", 2, 2.0, 3_000),
]
# Concurrent keyset windows (the default: up to max_concurrency), beside one chain.
MODES = [
    ("windows (8)", {"max_concurrency": 8}),
    ("one chain", {"max_concurrency": 8, "users_list_windows": 1}),
]


def bench_listing_profiles(quick: bool) -> list[str]:
    rows = [
        "| profile | listing | users | elapsed s | requests | users per request "
        "| users listed/s (steady) | % of limit x 100 | 429s / requests | x one chain |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for profile, label, burst, rate, users in PROFILES:
        n = users // 4 if quick else users
        with Sandbox(
            SandboxConfig(users=n, seed=13, latency_ms=150, rate_limit_profile=profile, **CREDS)
        ) as sb:
            config = {"domain": sb.base_url, "tenant": "sandbox", **CREDS, "page_size": 100}
            catalog = catalog_selecting(config, {"users"})
            measured = []
            for mode, settings in MODES:
                time.sleep(burst / rate + 0.5)  # a full bucket for each run
                sb.reset_stats()
                with ServerCounter(sb, LISTING) as counter:
                    res = run_tap({**config, **settings}, catalog=catalog)
                assert res["records"] == n, f"{res['records']} of {n}"
                stats = sb.stats()
                requests = stats["by_endpoint"].get(LISTING, 0)
                throttled = stats.get("rate_limited", 0)
                # Users per answer over the whole run: short last pages and splits that
                # land where few users are count against the windows.
                per_request = n / max(requests - throttled, 1)
                listed = counter.steady_rate() * per_request
                measured.append((mode, res, requests, throttled, per_request, listed))
            base = measured[-1][-1]
            for mode, res, requests, throttled, per_request, listed in measured:
                rows.append(
                    f"| {label} | {mode} | {n:,} | {res['elapsed']:.1f} | {requests} "
                    f"| {per_request:.1f} | {listed:,.0f} | {100 * listed / (rate * 100):.0f}% "
                    f"| {throttle_cell(throttled, requests)} | {listed / base:.2f} |"
                )
                print(rows[-1], flush=True)
    return rows


def bench_record_cost(quick: bool) -> list[str]:
    """Each size three times: the run with the median CPU seconds is the row, and the CPU
    figure's range across the three runs is shown (a shared machine drifts run to run)."""
    rows = [
        "| users | mode | answers | records | elapsed s | CPU s | records per CPU-second "
        "| peak RSS MB | STATE bytes | records per CPU-second, 3 runs (min-max) |",
        "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    sizes = [10_000, 30_000] if quick else [60_000, 200_000]
    for n in sizes:
        # (compressed, modes): gzip as Auth0 sends it; identity at the first size only.
        runs = [(True, ["search", "export"] if n == sizes[-1] else ["search"])]
        if n == sizes[0]:
            runs.append((False, ["search"]))
        for compress, modes in runs:
            with sandbox_process(n, compress=compress) as base_url:
                for mode in modes:
                    config = {
                        "domain": base_url,
                        "tenant": "sandbox",
                        **CREDS,
                        "users_extraction": mode,
                    }
                    catalog = catalog_selecting(config, {"users"})
                    answers = "gzip" if compress else "identity"
                    if mode == "export":
                        answers = "gzip file (export)"
                    rows.append(
                        f"| {n:,} | {mode} | {answers} | {n:,} | {cost_cells(config, catalog, n)} |"
                    )
                    print(rows[-1], flush=True)
    return rows


def sections(quick: bool) -> list[tuple[str, list[str]]]:
    return [
        ("Users listing, 150 ms latency", bench_listing_profiles(quick)),
        ("Record cost end to end, no latency, no limit", bench_record_cost(quick)),
    ]
