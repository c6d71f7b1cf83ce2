"""`make bench` part for the roles and organizations streams (`--only rbac`).

1. Requests per stream: a tenant of 1,500 organizations (one with 2,500 members) and 30 roles
   (one with 1,500 users), no latency, no limit, through the real console script with a
   catalog (from `tap-auth0 --discover`) selecting only the RBAC/organization streams.
2. Rate-limit buckets, 150 ms latency: a small tenant under the `enterprise` profile (one
   global bucket beside the organization members / member roles / connections buckets) and
   under `essentials` (a bucket per endpoint family). 429 share, and per family the requests,
   the bucket's sustained limit and the rate achieved while the family was active. Each
   family's minimum time is (requests - burst) / refill: if the buckets paced apart, the run
   takes about the largest of them, not their sum.

Imports nothing from tests/; the sandbox is used in-process like scripts/bench.py does.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from auth0_sandbox import Sandbox, SandboxConfig
from auth0_sandbox.ratelimit import PROFILES as BUCKETS

TAP = str(Path(sys.executable).with_name("tap-auth0"))
CREDS = {"access_token": "bench-token"}
# stream -> (sandbox route template it requests, family); None: derived, no requests.
STREAMS: dict[str, str | None] = {
    "roles": "GET /api/v2/roles",
    "role_permissions": "GET /api/v2/roles/{id}/permissions",
    "role_members": "GET /api/v2/roles/{id}/users",
    "organizations": "GET /api/v2/organizations",
    "organization_members": "GET /api/v2/organizations/{id}/members",
    "organization_member_roles": None,
    "organization_connections": "GET /api/v2/organizations/{id}/enabled_connections",
    "organization_invitations": "GET /api/v2/organizations/{id}/invitations",
}
MEMBER_ROLES_ROUTE = "GET /api/v2/organizations/{id}/members/{user_id}/roles"


def discovered_catalog(config: dict, streams: set[str]) -> dict:
    """`tap-auth0 --discover` with exactly `streams` selected."""
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp, "config.json")
        cfg.write_text(json.dumps(config))
        out = subprocess.run(
            [TAP, "--config", str(cfg), "--discover"],
            check=True,
            capture_output=True,
        ).stdout
    catalog = json.loads(out)
    for entry in catalog["streams"]:
        for md in entry["metadata"]:
            if md["breadcrumb"] == []:
                md["metadata"]["selected"] = entry["tap_stream_id"] in streams
    return catalog


def run_tap(config: dict, catalog: dict) -> dict:
    """Run the console script; count RECORD messages per stream."""
    with tempfile.TemporaryDirectory() as tmp:
        cfg, cat = Path(tmp, "config.json"), Path(tmp, "catalog.json")
        cfg.write_text(json.dumps(config))
        cat.write_text(json.dumps(catalog))
        start = time.perf_counter()
        proc = subprocess.Popen(
            [TAP, "--config", str(cfg), "--catalog", str(cat)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            bufsize=1 << 16,
        )
        # stderr on a thread, so a chatty log never blocks the tap.
        err: list[bytes] = []
        reader = threading.Thread(target=lambda: err.append(proc.stderr.read()), daemon=True)
        reader.start()
        counts: dict[str, int] = {}
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith(b'{"type":"RECORD"'):
                stream = json.loads(line)["stream"]
                counts[stream] = counts.get(stream, 0) + 1
        status = proc.wait()
        elapsed = time.perf_counter() - start
        reader.join()
    if status != 0:
        tail = b"".join(err).decode(errors="replace")[-3000:]
        raise SystemExit(f"tap failed (status {status}):\n{tail}")
    return {"counts": counts, "elapsed": elapsed}


def truth_counts(sb: Sandbox) -> dict[str, int]:
    t = sb.tenant_truth()

    def total(per_parent: dict) -> int:
        return sum(len(v) for v in per_parent.values())

    return {
        "roles": len(t["roles"]),
        "role_permissions": total(t["role_permissions"]),
        "role_members": total(t["role_users"]),
        "organizations": len(t["organizations"]),
        "organization_members": total(t["organization_members"]),
        "organization_member_roles": sum(
            len(roles) for org in t["organization_member_roles"].values() for roles in org.values()
        ),
        "organization_connections": total(t["organization_enabled_connections"]),
        "organization_invitations": total(t["organization_invitations"]),
    }


def bench_requests_per_stream(quick: bool) -> list[str]:
    orgs, big_org, roles, big_role = (300, 1_200, 30, 1_500) if quick else (1_500, 2_500, 30, 1_500)
    rows = [
        f"Tenant: {orgs:,} organizations (one with {big_org:,} members), {roles} roles (one "
        f"with {big_role:,} users), 3,000 users; no latency, no limit; `max_concurrency` 8.",
        "",
        "| stream | rows emitted | rows in truth | requests | requests per 100 rows |",
        "|---|---:|---:|---:|---:|",
    ]
    config = SandboxConfig(
        users=3_000,
        seed=21,
        roles=roles,
        big_role_users=big_role,
        organizations=orgs,
        big_org_members=big_org,
        **CREDS,
    )
    with Sandbox(config) as sb:
        tap_config = {"domain": sb.base_url, "tenant": "sandbox", **CREDS}
        catalog = discovered_catalog(tap_config, set(STREAMS))
        truth = truth_counts(sb)
        sb.reset_stats()
        result = run_tap(tap_config, catalog)
        stats = sb.stats()
    by_endpoint = stats["by_endpoint"]
    total_rows = total_requests = 0
    for stream, route in STREAMS.items():
        got = result["counts"].get(stream, 0)
        requests = by_endpoint.get(route, 0) if route else by_endpoint.get(MEMBER_ROLES_ROUTE, 0)
        total_rows += got
        total_requests += requests
        flag = "" if got == truth[stream] else " **≠**"
        per100 = f"{100 * requests / got:.2f}" if got else "–"
        rows.append(f"| {stream} | {got:,}{flag} | {truth[stream]:,} | {requests:,} | {per100} |")
    other = stats["requests"] - total_requests
    rows.append(
        f"| **total** | {total_rows:,} | {sum(truth.values()):,} | {total_requests:,} "
        f"| {100 * total_requests / max(total_rows, 1):.2f} |"
    )
    rows += [
        "",
        f"Elapsed {result['elapsed']:.1f} s end to end (tap start-up included), "
        f"{total_rows / result['elapsed']:,.0f} rows/s, "
        f"{total_requests / result['elapsed']:,.0f} requests/s; other requests: {other}; "
        f"429s: {stats['rate_limited']}.",
    ]
    for row in rows:
        print(row, flush=True)
    return rows


class FamilySampler:
    """Samples the sandbox's per-family request counts, to find when each family was
    active (first to last request) during the run."""

    def __init__(self, sb: Sandbox) -> None:
        self.sb = sb
        self.samples: list[tuple[float, dict[str, int]]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append((time.perf_counter(), dict(self.sb.stats()["by_family"])))
            self._stop.wait(0.1)

    def __enter__(self) -> FamilySampler:
        self.start = time.perf_counter()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.samples.append((time.perf_counter(), dict(self.sb.stats()["by_family"])))

    def active(self, family: str) -> tuple[float, float]:
        """(first, last) second of the run at which the family's count moved."""
        final = self.samples[-1][1].get(family, 0)
        first = next(t for t, c in self.samples if c.get(family, 0) > 0)
        last = next(t for t, c in self.samples if c.get(family, 0) >= final)
        # A sample shows requests made up to 0.1 s earlier.
        return max(first - 0.1, self.start) - self.start, last - self.start


def buckets_of(profile: str, families: list[str]) -> dict[str, tuple[list[str], int, float]]:
    """Bucket label -> (families it serves, burst, refill per second) for the families seen;
    families without a bucket of their own share the profile's `*` bucket."""
    sizes = BUCKETS[profile]
    out: dict[str, tuple[list[str], int, float]] = {}
    for family in families:
        key = family if family in sizes else "*"
        fams = out.setdefault(key, ([], *sizes[key]))[0]
        fams.append(family)
    return out


def bench_buckets(quick: bool) -> list[str]:
    orgs, roles, big_org = (20, 6, 3_000) if quick else (40, 10, 9_000)
    rows: list[str] = [
        f"Tenant: {orgs} organizations (one with {big_org:,} members), {roles} roles, "
        f"{big_org + 1_000:,} users; 150 ms latency per request; `max_concurrency` 8; the "
        "eight RBAC/organization streams. Min time = (requests answered − burst) / refill; "
        "active = first to last request of the bucket's families.",
        "",
    ]
    summary = [
        "| profile | requests | 429s | 429 share | elapsed s | Σ family min s "
        "| max family min s | elapsed / max | Σ / max |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    detail = [
        "| profile | bucket: families | burst, per min | requests | 429s | active s "
        "| answered/s | sustained req/s | min time s | min / active |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    notes: list[str] = []
    for profile in ("enterprise", "essentials"):
        config = SandboxConfig(
            users=big_org + 1_000,
            seed=31,
            roles=roles,
            organizations=orgs,
            big_org_members=big_org,
            latency_ms=150,
            rate_limit_profile=profile,
            **CREDS,
        )
        with Sandbox(config) as sb:
            tap_config = {"domain": sb.base_url, "tenant": "sandbox", **CREDS}
            catalog = discovered_catalog(tap_config, set(STREAMS))
            truth = truth_counts(sb)
            sb.reset_stats()
            with FamilySampler(sb) as sampler:
                result = run_tap(tap_config, catalog)
            stats = sb.stats()
        wrong = {s: (result["counts"].get(s, 0), n) for s, n in truth.items()}
        wrong = {s: v for s, v in wrong.items() if v[0] != v[1]}
        if wrong:
            notes.append(f"- **{profile}: rows emitted ≠ truth (emitted, truth): {wrong}**")
            print(notes[-1], flush=True)
        mins = {}
        for key, (families, burst, rate) in buckets_of(profile, sorted(stats["by_family"])).items():
            requests = sum(stats["by_family"][f] for f in families)
            limited = sum(stats["rate_limited_by_family"].get(f, 0) for f in families)
            spans = [sampler.active(f) for f in families]
            first, last = min(a for a, _ in spans), max(b for _, b in spans)
            span = max(last - first, 1e-9)
            answered = requests - limited  # a 429 takes no token
            mins[key] = max(answered - burst, 0) / rate
            label = ", ".join(families) + (" (shared)" if key == "*" else "")
            detail.append(
                f"| {profile} | {label} | {burst}, {rate * 60:g} | {requests} | {limited} "
                f"| {span:.1f} | {answered / span:.2f} | {rate:.2f} | {mins[key]:.1f} "
                f"| {100 * mins[key] / span:.0f}% |"
            )
            print(detail[-1], flush=True)
        total, limited, elapsed = stats["requests"], stats["rate_limited"], result["elapsed"]
        biggest, summed = max(mins.values()), sum(mins.values())
        summary.append(
            f"| {profile} | {total} | {limited} | {100 * limited / max(total, 1):.2f}% "
            f"| {elapsed:.1f} | {summed:.1f} | {biggest:.1f} | {elapsed / biggest:.2f} "
            f"| {summed / biggest:.2f} |"
        )
        print(summary[-1], flush=True)
        by_route = stats["rate_limited_by_endpoint"]
        if by_route:
            named = ", ".join(f"{k.split('/api/v2')[1]} {v}" for k, v in sorted(by_route.items()))
            notes.append(f"- {profile}: 429s by endpoint: {named}")
            print(notes[-1], flush=True)
    return [*rows, *summary, "", *detail, *([""] + notes if notes else [])]


def sections(quick: bool) -> list[tuple[str, list[str]]]:
    """The titled tables scripts/bench.py prints."""
    return [
        ("Roles and organizations: requests per stream", bench_requests_per_stream(quick)),
        ("Roles and organizations: rate-limit buckets", bench_buckets(quick)),
    ]
