"""`make bench ARGS="--only change-capture"`: what an incremental run costs with change capture.

A tenant of 1,500 organizations (one with 2,500 members), 30 roles (one with 1,500 users) and
3,000 users; the default selection (no catalog); the console script, STATE carried from run
to run. Requests are counted at the sandbox, as a tenant's rate limit counts them.

1. Run 1, the full pass (no STATE): what every run cost before change capture. It runs with
   the limit off (Essentials paces organization connections at 50/min: ~30 min); its minimum
   time under Essentials is worked out from its requests per bucket.
2. Nothing changed, under Essentials: requests (target <= 20) and wall time.
3. K changes of one kind at a time (each on its own small parent, the worst case), then a run:
   requests over the nothing-changed run, per change (target about 3). Two rows make one
   change on the large role / organization: what beyond that is the parent's extra pages.
4. A mix of every kind (and one change on each large parent): requests against
   20 + 3 x changes + extra pages, on this tenant and on one with 300 organizations (the
   count does not grow with objects no change touched).

Changes are made over HTTP (as an admin makes them; the sandbox logs them as Auth0 does) with
the limit off; each measured run then starts under Essentials with full buckets, as a run
hours after the last would.
"""

from __future__ import annotations

import math
import typing as t
from urllib.parse import quote

import requests
from auth0_sandbox import Sandbox, SandboxConfig
from auth0_sandbox.ratelimit import PROFILES as BUCKETS
from benchkit import CREDS, run_tap

K = 5  # changes per kind
BIG_ORG, BIG_ROLE = 2_500, 1_500
PAGE = 100  # the tap's page size for a parent's children (role users, organization members)


def tenant(quick: bool, organizations: int | None = None) -> SandboxConfig:
    return SandboxConfig(
        users=1_000 if quick else 3_000,
        roles=30,
        organizations=organizations or (300 if quick else 1_500),
        big_org_members=500 if quick else BIG_ORG,
        big_role_users=300 if quick else BIG_ROLE,
        logs=200,
        seed=19,
        **CREDS,
    )


class Tenant:
    """One sandbox, its STATE from run to run, and the objects changes may still touch."""

    def __init__(self, sb: Sandbox) -> None:
        self.sb = sb
        self.config = {"domain": sb.base_url, "tenant": "sandbox", **CREDS}
        self.state: dict[str, t.Any] | None = None
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {CREDS['access_token']}"
        tt = sb.tenant_truth()
        self.tt = tt
        self.big_role = max(tt["role_users"], key=lambda r: len(tt["role_users"][r]))
        self.big_org = max(
            tt["organization_members"], key=lambda o: len(tt["organization_members"][o])
        )
        # Users, roles and organizations each change touches once (so the truth read above
        # stays true for them); the large parents only where a row says so.
        self.used: set[str] = {self.big_org, self.big_role}
        self.users = sorted(u["user_id"] for u in sb.truth())
        self.created = 0

    def run(self, profile: str) -> tuple[dict, dict]:
        """One run from the current STATE; the sandbox's counts for it."""
        if profile == "global":
            self.sb.configure(rate_limit_profile="global", rate_limit_burst=0)
        else:  # a fresh limiter: full buckets
            self.sb.configure(rate_limit_profile=profile)
        self.sb.reset_stats()
        res = run_tap(self.config, state=self.state)
        stats = self.sb.stats()
        self.state = res["state"]
        self.sb.configure(rate_limit_profile="global", rate_limit_burst=0)  # writes unpaced
        return res, stats

    def api(self, method: str, path: str, body: t.Any = None) -> t.Any:
        r = self.http.request(method, f"{self.sb.base_url}/api/v2{path}", json=body, timeout=30)
        if r.status_code >= 300:
            raise SystemExit(f"{method} {path}: {r.status_code} {r.text[:300]}")
        return r.json() if r.content else None

    def take(self, candidates: t.Iterable[str]) -> str:
        """The first candidate no change has touched yet (now touched)."""
        for c in candidates:
            if c not in self.used:
                self.used.add(c)
                return c
        raise SystemExit("no untouched object left")

    # -- one change of each kind ------------------------------------------------------------
    def user_deleted(self) -> None:
        self.api("DELETE", f"/users/{q(self.take(self.users))}")

    def user_blocked(self) -> None:
        self.api("PATCH", f"/users/{q(self.take(self.users))}", {"blocked": True})

    def role_granted(self, role: str | None = None) -> None:
        role = role or self.take(r["id"] for r in self.tt["roles"])
        self.api("POST", f"/users/{q(self.take(self.users))}/roles", {"roles": [role]})

    def role_revoked(self) -> None:
        role, uid = self._pair(self.tt["role_users"])
        self.api("DELETE", f"/users/{q(uid)}/roles", {"roles": [role]})

    def role_permission_removed(self) -> None:
        role = self.take(r for r, ps in self.tt["role_permissions"].items() if ps)
        perm = self.tt["role_permissions"][role][0]
        keep = ("resource_server_identifier", "permission_name")
        body = {"permissions": [{k: perm[k] for k in keep}]}
        self.api("DELETE", f"/roles/{role}/permissions", body)

    def member_added(self, org: str | None = None) -> None:
        org = org or self.take(o["id"] for o in self.tt["organizations"])
        self.api("POST", f"/organizations/{org}/members", {"members": [self.take(self.users)]})

    def member_removed(self) -> None:
        org, uid = self._pair(self.tt["organization_members"])
        self.api("DELETE", f"/organizations/{org}/members", {"members": [uid]})

    def member_role_added(self) -> None:
        org, uid = self._pair(self.tt["organization_members"])
        held = {r["id"] for r in self.tt["organization_member_roles"][org].get(uid, [])}
        role = next(r["id"] for r in self.tt["roles"] if r["id"] not in held)
        self.api("POST", f"/organizations/{org}/members/{q(uid)}/roles", {"roles": [role]})

    def connection_disabled(self) -> None:
        enabled = self.tt["organization_enabled_connections"]
        org = self.take(o for o, cs in enabled.items() if cs)
        self.api(
            "DELETE", f"/organizations/{org}/enabled_connections/{enabled[org][0]['connection_id']}"
        )

    def organization_created(self) -> None:
        self.created += 1
        self.api("POST", "/organizations", {"name": f"bench-org-{self.created}"})

    def organization_deleted(self) -> None:
        self.api("DELETE", f"/organizations/{self.take(o['id'] for o in self.tt['organizations'])}")

    def client_created(self) -> None:
        self.created += 1
        self.api("POST", "/clients", {"name": f"bench-client-{self.created}"})

    def client_deleted(self) -> None:
        ids = [c["client_id"] for c in self.api("GET", "/clients?fields=client_id")]
        self.api("DELETE", f"/clients/{self.take(reversed(ids))}")

    def mfa_factor_deleted(self) -> None:
        methods = self.tt["user_authentication_methods"]
        uid = self.take(u for u in methods if methods[u])
        self.api("DELETE", f"/users/{q(uid)}/authentication-methods/{q(methods[uid][0]['id'])}")

    def mfa_enrolled(self) -> None:
        self.sb.enroll(self.take(self.users))

    def sessions_revoked(self) -> None:
        self.api("DELETE", f"/users/{q(self.take(self.tt['user_sessions']))}/sessions")

    def _pair(self, members: dict[str, list[dict]]) -> tuple[str, str]:
        """An untouched small parent and an untouched user in it."""
        for parent, rows in members.items():
            if parent in self.used:
                continue
            uid = next((r["user_id"] for r in rows if r["user_id"] not in self.used), None)
            if uid:
                self.used.update((parent, uid))
                return parent, uid
        raise SystemExit("no untouched parent with a member left")


KINDS: list[tuple[str, t.Callable[[Tenant], None]]] = [
    ("user deleted", Tenant.user_deleted),
    ("role granted to a user", Tenant.role_granted),
    ("role revoked from a user", Tenant.role_revoked),
    ("role permission removed", Tenant.role_permission_removed),
    ("organization member added", Tenant.member_added),
    ("organization member removed", Tenant.member_removed),
    ("organization member role added", Tenant.member_role_added),
    ("organization connection disabled", Tenant.connection_disabled),
    ("organization created", Tenant.organization_created),
    ("organization deleted", Tenant.organization_deleted),
    ("client created", Tenant.client_created),
    ("client deleted", Tenant.client_deleted),
    ("MFA factor deleted", Tenant.mfa_factor_deleted),
    ("MFA enrolled", Tenant.mfa_enrolled),
    ("sessions revoked", Tenant.sessions_revoked),
    ("user blocked", Tenant.user_blocked),
]


def extra_pages(ten: Tenant) -> int:
    """Pages beyond the first of the large parents' children (role users; organization
    members) as the tenant holds them now, which a change on them has the run re-read."""
    tt = ten.sb.tenant_truth()
    role = math.ceil(len(tt["role_users"][ten.big_role]) / PAGE) - 1
    org = math.ceil(len(tt["organization_members"][ten.big_org]) / PAGE) - 1
    return role + org


def mix(ten: Tenant) -> int:
    """One change of every kind, and one on each large parent; returns how many."""
    for _, change in KINDS:
        change(ten)
    ten.role_granted(ten.big_role)
    ten.member_added(ten.big_org)
    return len(KINDS) + 2


def api_requests(stats: dict) -> dict[str, int]:
    return {k.split("/api/v2", 1)[1]: v for k, v in stats["by_endpoint"].items() if "/api/v2" in k}


def over(stats: dict, base: dict[str, int]) -> str:
    """The endpoints a run requested more than the nothing-changed run did."""
    now = api_requests(stats)
    more = {k: v - base.get(k, 0) for k, v in now.items() if v > base.get(k, 0)}
    return ", ".join(f"`{k}` {v}" for k, v in sorted(more.items(), key=lambda kv: -kv[1]))


def essentials_minimum(stats: dict) -> float:
    """Seconds the run's requests need at least under Essentials: per bucket,
    (requests - burst) / refill; the buckets pace apart, so the largest."""
    sizes = BUCKETS["essentials"]
    per_bucket: dict[str, int] = {}
    for family, n in stats["by_family"].items():
        bucket = family if family in sizes else "*"
        per_bucket[bucket] = per_bucket.get(bucket, 0) + n
    return max((max(0, n - sizes[b][0]) / sizes[b][1] for b, n in per_bucket.items()), default=0.0)


def bench_change_capture(quick: bool) -> list[tuple[str, list[str]]]:
    cfg = tenant(quick)
    size = (
        f"Tenant: {cfg.organizations:,} organizations (one with {cfg.big_org_members:,} "
        f"members), {cfg.roles} roles (one with {cfg.big_role_users:,} users), "
        f"{cfg.users:,} users, {cfg.logs} log events; no latency; no catalog (the default "
        "selection); the STATE carried from run to run."
    )
    runs = [
        size,
        "",
        "| run | rate profile | requests | 429s | elapsed s | Essentials minimum | "
        "requests / run 1's |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    kinds = [
        f"{K} changes of one kind (each on its own small parent or user), then a run under "
        "Essentials; `over nothing changed` = requests minus the nothing-changed run's.",
        "",
        "| change | changes | requests | over nothing changed | per change | 429s | elapsed s "
        "| what the extra requests were |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    mixes = [
        "One change of every kind above and one on each large parent (a user granted the "
        "large role, a member added to the large organization), then a run under Essentials. "
        "Extra pages: the large parents' children beyond their first page "
        f"({PAGE} per page).",
        "",
        "| organizations | full pass requests | nothing changed | changes | requests "
        "| extra pages | 20 + 3 x changes + extra pages | within | 429s | elapsed s |",
        "|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|",
    ]
    sizes = [cfg.organizations, 60 if quick else 300]
    for organizations in sizes:
        with Sandbox(tenant(quick, organizations)) as sb:
            ten = Tenant(sb)
            full, full_stats = ten.run("global")
            first = full_stats["requests"]
            nothing, base_stats = ten.run("essentials")
            base = base_stats["requests"]
            if organizations == sizes[0]:
                for label, res, stats, profile in (
                    ("1: full pass (no STATE)", full, full_stats, "none (limit off)"),
                    ("2: nothing changed", nothing, base_stats, "Essentials"),
                ):
                    runs.append(
                        f"| {label} | {profile} | {stats['requests']:,} "
                        f"| {stats['rate_limited']} | {res['elapsed']:.1f} "
                        f"| {essentials_minimum(stats) / 60:.1f} min "
                        f"| {stats['requests'] / first:.4f} |"
                    )
                    print(runs[-1], flush=True)
                base_endpoints = api_requests(base_stats)
                for label, change, k in [
                    *((name, fn, K) for name, fn in KINDS),
                    ("role granted: the large role", lambda x: x.role_granted(x.big_role), 1),
                    (
                        "member added: the large organization",
                        lambda x: x.member_added(x.big_org),
                        1,
                    ),
                ]:
                    for _ in range(k):
                        change(ten)
                    res, stats = ten.run("essentials")
                    extra = stats["requests"] - base
                    kinds.append(
                        f"| {label} | {k} | {stats['requests']} | {extra} | {extra / k:.1f} "
                        f"| {stats['rate_limited']} | {res['elapsed']:.1f} "
                        f"| {over(stats, base_endpoints) or '-'} |"
                    )
                    print(kinds[-1], flush=True)
            changes = mix(ten)
            pages = extra_pages(ten)
            res, stats = ten.run("essentials")
            print(
                f"mix at {organizations} organizations: {api_requests(stats)}; 429s "
                f"{stats['rate_limited_by_endpoint']}",
                flush=True,
            )
            bound = 20 + 3 * changes + pages
            mixes.append(
                f"| {organizations:,} | {first:,} | {base} | {changes} | {stats['requests']} "
                f"| {pages} | {bound} | {'yes' if stats['requests'] <= bound else '**no**'} "
                f"| {stats['rate_limited']} | {res['elapsed']:.1f} |"
            )
            print(mixes[-1], flush=True)
    return [
        ("Change capture: the full pass and a run with nothing changed", runs),
        ("Change capture: requests per change, by kind (Essentials)", kinds),
        ("Change capture: a mix of every kind, and untouched objects", mixes),
    ]


def q(value: str) -> str:
    return quote(value, safe="")


def sections(quick: bool) -> list[tuple[str, list[str]]]:
    return bench_change_capture(quick)
