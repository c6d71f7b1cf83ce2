"""`make bench ARGS="--only logs"`: the `logs` stream against each tier's logs bucket, and what
an event costs end to end.

1. Checkpoint chain at 150 ms latency under the sandbox's Enterprise, Essentials and free
   rate-limit profiles: events/s measured at the server (successful Get Logs answers over the
   middle of the run, 100 events each: every page there is a full `take`), its share of the
   bucket's sustained requests/s x 100 events per request, and the 429 share. The bucket sizes
   are the sandbox's own (auth0_sandbox.ratelimit.PROFILES).
2. End to end through the console script, no latency and no limit: records per CPU-second of
   the tap process (start-up included; the median of three runs, the sandbox in a process of
   its own), peak RSS and the final STATE's size.
"""

from __future__ import annotations

from auth0_sandbox import Sandbox, SandboxConfig
from auth0_sandbox.ratelimit import PROFILES as BUCKETS
from benchkit import (
    CREDS,
    ServerCounter,
    catalog_selecting,
    cost_cells,
    run_tap,
    sandbox_process,
    throttle_cell,
)

from tap_auth0.log_reader import TAKE

LOGS = "GET /api/v2/logs"
# sandbox profile, label, events (full, quick): several seconds to ~20 s at 150 ms, and past
# the burst (Essentials' 10 requests) by enough that the middle of the run is all refill
PROFILES = [
    ("enterprise", "Enterprise", 6_000, 2_000),
    ("essentials", "Essentials", 4_000, 2_500),
    ("free", "Free", 3_000, 1_000),
]


def logs_bucket(profile: str) -> tuple[int, float]:
    """(burst, sustained requests/s) of the bucket `GET /logs` takes from under `profile`."""
    sizes = BUCKETS[profile]
    return sizes.get("logs", sizes["*"])


def bench_logs_profiles(quick: bool) -> list[str]:
    rows = [
        "| profile (logs bucket) | events | elapsed s | events/s (steady) "
        "| % of limit x 100 | 429s / requests |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for profile, label, full, small in PROFILES:
        n = small if quick else full
        burst, rate = logs_bucket(profile)
        per = f"{rate:.0f}/s" if rate == int(rate) else f"{rate * 60:.0f}/min"
        with Sandbox(
            SandboxConfig(
                users=50, logs=n, seed=17, latency_ms=150, rate_limit_profile=profile, **CREDS
            )
        ) as sb:
            config = {"domain": sb.base_url, "tenant": "sandbox", **CREDS}
            catalog = catalog_selecting(config, {"logs"})
            sb.reset_stats()
            with ServerCounter(sb, LOGS) as counter:
                res = run_tap(config, catalog=catalog)
            assert res["records"] == n, f"{res['records']} of {n}"
            stats = sb.stats()
            requests = stats["by_endpoint"].get(LOGS, 0)
            throttled = stats["rate_limited_by_endpoint"].get(LOGS, 0)
            events = counter.steady_rate() * TAKE
            rows.append(
                f"| {label} ({burst} burst, {per}) | {n:,} | {res['elapsed']:.1f} "
                f"| {events:,.0f} | {100 * events / (rate * TAKE):.0f}% "
                f"| {throttle_cell(throttled, requests)} |"
            )
            print(rows[-1], flush=True)
    return rows


def bench_logs_record_cost(quick: bool) -> list[str]:
    """Measured as the users' record cost is (bench_listing.cost_cells): the sandbox in a
    process of its own, the median of three runs."""
    rows = [
        "| events | records | elapsed s | CPU s | records per CPU-second | peak RSS MB "
        "| STATE bytes | records per CPU-second, 3 runs (min-max) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    n = 20_000 if quick else 100_000
    with sandbox_process(50, logs=n) as base_url:
        config = {"domain": base_url, "tenant": "sandbox", **CREDS}
        catalog = catalog_selecting(config, {"logs"})
        rows.append(f"| {n:,} | {n:,} | {cost_cells(config, catalog, n)} |")
        print(rows[-1], flush=True)
    return rows


def sections(quick: bool) -> list[tuple[str, list[str]]]:
    return [
        ("Logs checkpoint chain, 150 ms latency", bench_logs_profiles(quick)),
        ("Logs record cost end to end, no latency, no limit", bench_logs_record_cost(quick)),
    ]
