"""`make bench`: how close tap-auth0 runs to the tenant's rate limit, and what a record costs.

Everything runs against the local sandbox, in one run, so ratios are comparable on a
shared, noisy machine. Prints one Markdown table per part; `--quick` shrinks the sizes.

1. Rate profiles (150 ms latency): user_detail records/s with the shared scheduler and
   bounded concurrency, beside a one-at-a-time baseline; 429 count; users listed/s.
2. Output path (no network): records/s through post-processing, conformance and the
   Singer writer, for the writer/conformance choices.
3. 100k users, no latency, no limit: end-to-end records/s, peak RSS (and at 20k, to show
   it does not grow with the tenant) and the size of the final STATE.
4. Roles and organizations (`--only rbac`, scripts/bench_rbac.py): requests per stream, 429s
   and bucket independence under the Enterprise and Essentials profiles.
5. Users listing and record cost (`--only listing`, scripts/bench_listing.py): users/s against
   each tier's limit; records per CPU-second, peak RSS and STATE size end to end.
6. Logs checkpoint chain and record cost (`--only logs`, scripts/bench_logs.py): events/s
   against each tier's logs bucket; records per CPU-second, peak RSS and STATE size.
7. Record cost per SDK override (`--only overrides`): records per CPU-second of `users` with
   every override of tap_auth0/sdk_hooks.py, each one switched off (TAP_AUTH0_SDK_OVERRIDES),
   and none: what each saves, so that one saving under 10% can go.
8. Default run per rate profile (`--only default-run`, scripts/bench_default_run.py): 429s /
   requests of a run with the default selection under the free, Essentials and Enterprise
   profiles.
9. Change capture (`--only change-capture`, scripts/bench_change_capture.py): requests of the
   full pass, of a run with nothing changed and per change of each kind, under Essentials.
"""

from __future__ import annotations

import argparse
import importlib
import io
import os
import sys
import time
from contextlib import redirect_stdout

import benchdoc
from auth0_sandbox import Sandbox, SandboxConfig
from benchkit import (
    CREDS,
    RECORD_COST_RUNS,
    ServerCounter,
    catalog_selecting,
    run_tap,
    sandbox_process,
    throttle_cell,
)

PROFILES = [
    # name, burst, sustained requests/s
    ("Enterprise (50 burst, 16/s)", 50, 16.0),
    ("Essentials Read Users (40 burst, 500/min)", 40, 500 / 60),
    ("Free (2 burst, 2/s)", 2, 2.0),
    # Not a documented tier: the scheduler has to measure the refill rate itself.
    ("Unlisted (20 burst, 5/s)", 20, 5.0),
]


def bench_profiles(quick: bool) -> list[str]:
    rows = [
        "| profile | mode | records | records/s (steady) | % of sustained | 429s / requests "
        "| users listed/s |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    seconds = 12 if quick else 30
    for name, burst, rate in PROFILES:
        users = 3000
        with Sandbox(
            SandboxConfig(
                users=users,
                seed=11,
                latency_ms=150,
                rate_limit_burst=burst,
                rate_limit_per_second=rate,
                **CREDS,
            )
        ) as sb:
            ids = [u["user_id"] for u in sb.truth()]
            base = {"domain": sb.base_url, "tenant": "sandbox", **CREDS}
            listing_rate = None
            for mode, conc in (("concurrent (8)", 8), ("one at a time", 1)):
                # Long enough that the burst is a small part of it.
                count = int(2 * burst + rate * seconds)
                if conc == 1:
                    count = int(min(rate, 6.5) * seconds)
                config = {**base, "user_ids": ids[:count], "max_concurrency": conc}
                time.sleep(burst / rate + 0.5)  # let the bucket refill between runs
                sb.reset_stats()
                with ServerCounter(sb) as counter:
                    result = run_tap(config, catalog=catalog_selecting(config, {"user_detail"}))
                stats = sb.stats()
                got = len(result["times"])
                assert got == count, f"{got} of {count} records"
                measured = counter.steady_rate()
                requests = stats["by_endpoint"].get("GET /api/v2/users/{id}", 0)
                throttled = stats.get("rate_limited", 0)
                if listing_rate is None:
                    time.sleep(burst / rate + 0.5)
                    lconf = {**base, "page_size": 100}
                    sb.reset_stats()
                    cat = catalog_selecting(lconf, {"users"})
                    res = run_tap(lconf, catalog=cat)
                    listed = len(res["times"])
                    listing_rate = listed / res["times"][-1] if listed else 0
                rows.append(
                    f"| {name} | {mode} | {got} | {measured:.2f} | {100 * measured / rate:.0f}% "
                    f"| {throttle_cell(throttled, requests)} | {listing_rate:.0f} |"
                )
                print(rows[-1], flush=True)
    return rows


def bench_output_path(n: int) -> list[str]:
    """Records/s of post_process → conformance → writer, stdout to /dev/null."""
    from auth0_sandbox.data import generate_users  # type: ignore[attr-defined]
    from singer_sdk.helpers.conform import TypeConformanceLevel
    from singer_sdk.singerlib.encoding import SimpleSingerWriter

    from tap_auth0.output import BufferedMsgSpecWriter
    from tap_auth0.tap import TapAuth0

    users = generate_users(n, seed=3)
    rows = [
        "| writer | conformance | records/s | µs/record |",
        "|---|---|---:|---:|",
    ]
    from singer_sdk.contrib.msgspec import MsgSpecWriter

    combos = [
        ("SDK path, stdlib json writer", SimpleSingerWriter, TypeConformanceLevel.RECURSIVE, False),
        ("SDK path, msgspec writer", MsgSpecWriter, TypeConformanceLevel.RECURSIVE, False),
        ("SDK path, msgspec writer", MsgSpecWriter, TypeConformanceLevel.NONE, False),
        ("fast path, msgspec, flush per record", MsgSpecWriter, TypeConformanceLevel.NONE, True),
        ("fast path, msgspec, flush at STATE (chosen)", BufferedMsgSpecWriter, None, True),
    ]
    for label, writer, level, fast in combos:
        tap = TapAuth0(config={"domain": "acme.us.auth0.com", **CREDS})
        tap.message_writer = writer()  # type: ignore[misc]
        stream = tap.streams["users"]
        if level is not None:
            stream.TYPE_CONFORMANCE_LEVEL = level
        stream._fast_output = fast
        devnull = open(os.devnull, "w")  # noqa: SIM115
        copies = [dict(u) for u in users]
        start = time.perf_counter()
        with redirect_stdout(devnull):
            for rec in copies:
                out = stream.post_process(rec)
                stream._write_record_message(out)
                stream._increment_stream_state(out, context=None)
            sys.stdout.flush()
        elapsed = time.perf_counter() - start
        devnull.close()
        lvl = (level or stream.TYPE_CONFORMANCE_LEVEL).name if not fast else "n/a (fast path)"
        rows.append(f"| {label} | {lvl} | {n / elapsed:,.0f} | {1e6 * elapsed / n:.1f} |")
        print(rows[-1], flush=True)
    return rows


def bench_scale(sizes: list[int]) -> list[str]:
    rows = [
        "| users | records | elapsed s | records/s end to end | peak RSS MB | STATE bytes |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for n in sizes:
        with Sandbox(SandboxConfig(users=n, seed=5, **CREDS)) as sb:
            config = {"domain": sb.base_url, "tenant": "sandbox", **CREDS}
            res = run_tap(config, catalog=catalog_selecting(config, {"users"}))
            got = len(res["times"])
            assert got == n, f"{got} of {n}"
            rows.append(
                f"| {n:,} | {got:,} | {res['elapsed']:.1f} | {got / res['elapsed']:,.0f} "
                f"| {res['rss_mb']:.0f} | {res['state_bytes']} |"
            )
            print(rows[-1], flush=True)
    return rows


def bench_export(n: int) -> list[str]:
    """Export job vs search on the same sandbox, in the same run."""
    rows = [
        "| users | mode | records | elapsed s | records/s | peak RSS MB | API requests "
        "| request time at Essentials' 500/min |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    with Sandbox(SandboxConfig(users=n, seed=8, export_seconds=2.0, **CREDS)) as sb:
        for mode in ("export", "search"):
            config = {"domain": sb.base_url, "tenant": "sandbox", **CREDS, "users_extraction": mode}
            sb.reset_stats()
            res = run_tap(config, catalog=catalog_selecting(config, {"users"}))
            stats = sb.stats()
            api = sum(v for k, v in stats["by_endpoint"].items() if "/api/v2/" in k)
            got = len(res["times"])
            assert got == n, f"{mode}: {got} of {n}"
            rows.append(
                f"| {n:,} | {mode} | {got:,} | {res['elapsed']:.1f} "
                f"| {got / res['elapsed']:,.0f} | {res['rss_mb']:.0f} | {api:,} "
                f"| {api / (500 / 60):,.0f} s |"
            )
            print(rows[-1], flush=True)
    return rows


def bench_overrides(quick: bool) -> list[str]:
    """Each setting RECORD_COST_RUNS times, interleaved (a shared machine drifts): the median
    CPU seconds per setting. An override saves 1 - (CPU with all on) / (CPU with it off)."""
    from tap_auth0.sdk_hooks import OVERRIDES, SWITCH

    n = 10_000 if quick else 60_000
    settings = [("all on", "on")]
    if len(OVERRIDES) > 1:  # each alone off (with one override, that is "all off")
        settings += [
            (f"{name} off", ",".join(o for o in OVERRIDES if o != name)) for name in OVERRIDES
        ]
    settings += [("all off (the SDK's code)", "off")]
    streams = ("users", "logs")
    cpu: dict[tuple[str, str], list[float]] = {
        (s, label): [] for s in streams for label, _ in settings
    }
    with sandbox_process(n, logs=n) as base_url:
        config = {"domain": base_url, "tenant": "sandbox", **CREDS}
        for stream in streams:
            catalog = catalog_selecting(config, {stream})
            for _ in range(RECORD_COST_RUNS):
                for label, switch in settings:
                    res = run_tap(config, catalog=catalog, env={SWITCH: switch})
                    assert res["records"] == n, f"{stream}, {label}: {res['records']} of {n}"
                    cpu[stream, label].append(res["cpu"])
    median = {key: sorted(v)[len(v) // 2] for key, v in cpu.items()}
    rows = [
        f"| {SWITCH} | stream | records | CPU s (median of {RECORD_COST_RUNS}) "
        "| records per CPU-second | CPU s vs all on | saved by the override(s) switched off |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for stream in streams:
        on = median[stream, "all on"]
        for label, switch in settings:
            cost = median[stream, label]
            saves = "" if switch == "on" else f"{100 * (1 - on / cost):.0f}%"
            rows.append(
                f"| {label} (`{switch}`) | {stream} | {n:,} | {cost:.2f} | {n / cost:,.0f} "
                f"| {cost / on:.2f} | {saves} |"
            )
            print(rows[-1], flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, shorter runs")
    parser.add_argument("--only", choices=list(benchdoc.PARTS), default=None)
    args = parser.parse_args()
    run = {
        "profiles": lambda q: [("Rate profiles, 150 ms latency", bench_profiles(q))],
        "output": lambda q: [
            (f"Output path, {n:,} records, one core", bench_output_path(n))
            for n in [20_000 if q else 100_000]
        ],
        "scale": lambda q: [
            (
                "Users stream, no latency, no limit",
                bench_scale([5_000, 20_000] if q else [20_000, 100_000]),
            )
        ],
        "export": lambda q: [
            (f"Export job vs search, {n:,} users", bench_export(n))
            for n in [20_000 if q else 200_000]
        ],
        "rbac": lambda q: _module("bench_rbac").sections(q),
        "listing": lambda q: _module("bench_listing").sections(q),
        "logs": lambda q: _module("bench_logs").sections(q),
        "overrides": lambda q: [("Record cost per SDK override", bench_overrides(q))],
        "default-run": lambda q: _module("bench_default_run").sections(q),
        "change-capture": lambda q: _module("bench_change_capture").sections(q),
    }
    measured = {
        part: sections(args.quick) for part, sections in run.items() if args.only in (None, part)
    }
    out = io.StringIO()
    for sections in measured.values():
        for title, rows in sections:
            out.write(f"\n### {title}\n\n" + "\n".join(rows) + "\n")
    print(out.getvalue())
    if not args.quick:  # docs/performance.md holds full runs only
        print(f"written: {benchdoc.write(measured)}")


def _module(name: str):  # type: ignore[no-untyped-def]
    """A section module of scripts/ (imported when its part runs)."""
    return importlib.import_module(name)


if __name__ == "__main__":
    main()
