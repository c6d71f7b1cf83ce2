"""auth0_access_history (transform/) on both warehouses, after four runs of
`meltano run tap-auth0 <loader> dbt-<warehouse>:build` with an admin's changes between them.

Between the runs the test grants, revokes and re-grants roles and organization memberships
(and an organization role) over the Management API, deletes a user, changes and deletes
applications and connections, grants a role the log never shows (the sandbox's own hand),
and grants and removes a role and a membership between two runs (no snapshot sees them). It
keeps its own truth: the time window of each call it makes and of each run. After run 4:
- every dbt test passes (the history's own: key unique, intervals non-overlapping, each
  ending after it begins, every open grant in the current membership tables);
- for every (user, kind, target, organization) the mart's intervals equal the truth: a bound
  from the log lies within the window of the call that made it (the event's own time), one
  from a run within that run's window, a deleted user's grants end within the deletion's
  call; the grants present before run 1 begin at run 1;
- every call the test made appears in auth0_admin_activity once per call, with its actor,
  resource and target user.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from auth0_sandbox import Sandbox

from tests.e2e.test_audit_marts import Recorder, check_calls_once
from tests.e2e.test_dbt_models import check_build, dbt_paths, marts_truth, need_dbt
from tests.support import postgres
from tests.support.changes import capture_tenant, q
from tests.support.figures import report
from tests.support.meltano import MeltanoRunner, need_meltano
from tests.support.warehouse import BuiltMarts

CONFIG = capture_tenant(users=120, seed=44, roles=5, organizations=6, logs=120)
RUNS = 4

Key = tuple[str, str, str, str | None]  # user, access kind, target id, organization id
# How a bound is known and when: (source, first, last), UTC 'YYYY-MM-DD HH:MM:SS.fff' (the
# mart's time must lie in [first, last]); None for the end of a grant that holds.
Bound = tuple[str, str, str]


def ms(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")[:23]


def now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class Truth:
    """The grants as the test made them: per key, its intervals [from, to) as bounds."""

    intervals: dict[Key, list[list[Bound | None]]] = field(default_factory=dict)

    def holds(self, key: Key) -> bool:
        spans = self.intervals.get(key)
        return bool(spans) and spans[-1][1] is None

    def grant(self, key: Key, bound: Bound) -> None:
        if not self.holds(key):
            self.intervals.setdefault(key, []).append([bound, None])

    def revoke(self, key: Key, bound: Bound) -> None:
        if self.holds(key):
            self.intervals[key][-1][1] = bound

    def held(self, user: str | None = None) -> list[Key]:
        return [k for k in self.intervals if self.holds(k) and user in (None, k[0])]


class Admin(Recorder):
    """The Management API as the admin calls it: each call recorded (Recorder) with its
    time window, and the grants it makes or ends applied to the truth."""

    def __init__(self, sb: Sandbox, truth: Truth) -> None:
        super().__init__(sb)
        self.truth = truth

    def timed(self, *args: Any, **kw: Any) -> tuple[Any, tuple[str, str]]:
        first = now()
        out = self.call(*args, **kw)
        return out, (ms(first), ms(now()))

    def user_roles(self, method: str, user: str, role: str) -> None:
        _, (a, b) = self.timed(method, f"/users/{q(user)}/roles", {"roles": [role]}, "user",
                               user, user)  # fmt: skip
        key: Key = (user, "role", role, None)
        (self.truth.grant if method == "POST" else self.truth.revoke)(key, ("log", a, b))

    def role_users(self, role: str, users: list[str]) -> None:
        _, (a, b) = self.timed("POST", f"/roles/{role}/users", {"users": users}, "role", role)
        for u in users:
            self.truth.grant((u, "role", role, None), ("log", a, b))

    def members(self, method: str, org: str, users: list[str]) -> None:
        one = users[0] if len(users) == 1 else None
        _, (a, b) = self.timed(method, f"/organizations/{org}/members", {"members": users},
                               "organization", org, one)  # fmt: skip
        for u in users:
            if method == "POST":
                self.truth.grant((u, "organization", org, org), ("log", a, b))
                continue
            # A member removed loses its roles in the organization too.
            for k in self.truth.held(u):
                if k[3] == org:
                    self.truth.revoke(k, ("log", a, b))

    def member_roles(self, method: str, org: str, user: str, role: str) -> None:
        path = f"/organizations/{org}/members/{q(user)}/roles"
        _, (a, b) = self.timed(method, path, {"roles": [role]}, "organization", org, user)
        key: Key = (user, "organization_role", role, org)
        (self.truth.grant if method == "POST" else self.truth.revoke)(key, ("log", a, b))

    def create_client(self, name: str) -> None:
        """A client's id is in the answer's `client_id` (Recorder reads `id`)."""
        out = self.call("POST", "/clients", {"name": name}, "client")
        self.made[-1] = replace(self.made[-1], resource_id=out["client_id"])

    def delete_user(self, user: str) -> None:
        _, (a, b) = self.timed("DELETE", f"/users/{q(user)}", None, "user", user, user)
        for k in self.truth.held(user):
            self.truth.revoke(k, ("user_deleted", a, b))


@dataclass
class Story:
    """Who the changes touch, picked from the tenant before run 1."""

    a: str  # role granted, revoked, granted again (one call each, a run between)
    b: str  # granted the new role, then deleted (with the grants it had before run 1)
    c: str  # granted the new role; revoked and granted again between runs 3 and 4
    d: str  # loses a role it had before run 1
    e1: str  # joins an organization and gets a role there; removed from it
    e2: str  # joins the organization, is removed, joins again
    f: str  # granted and revoked the new role between runs 1 and 2
    g: str  # joins and leaves the organization between runs 1 and 2
    h: str  # granted the new role by the sandbox, unlogged: known from run 4
    m: str  # a member with a role in org_b before run 1, removed from org_b
    role0: str  # d's role
    org: str  # the organization e1, e2, g join (none of them a member before)
    org_b: str  # m's organization


def cast(sb: Sandbox) -> Story:
    tt = sb.tenant_truth()
    role_users = {r: {u["user_id"] for u in us} for r, us in tt["role_users"].items()}
    members = {o: {m["user_id"] for m in ms} for o, ms in tt["organization_members"].items()}
    member_roles = tt["organization_member_roles"]
    with_roles = {u for us in role_users.values() for u in us}
    in_orgs = {u for us in members.values() for u in us}
    org_b, m = next(
        (o, u) for o in sorted(member_roles) for u, rs in sorted(member_roles[o].items()) if rs
    )
    org = next(o for o in sorted(members) if o != org_b)
    role0 = next(r for r in sorted(role_users) if role_users[r] - {m})
    d = sorted(role_users[role0] - {m})[0]
    b = sorted((with_roles & in_orgs) - {m, d})[0]
    free = [u["user_id"] for u in sorted(sb.truth(), key=lambda u: u["user_id"])]
    free = [u for u in free if u not in {m, d, b} | members[org]]
    a, c, e1, e2, f, g, h = free[5:12]
    return Story(a, b, c, d, e1, e2, f, g, h, m, role0, org, org_b)


def initial(sb: Sandbox, first: Bound) -> Truth:
    """Every grant before run 1, held from run 1 (the log names none of them)."""
    tt = sb.tenant_truth()
    truth = Truth()
    for role, users in tt["role_users"].items():
        for u in users:
            truth.grant((u["user_id"], "role", role, None), first)
    for org, members in tt["organization_members"].items():
        for mem in members:
            truth.grant((mem["user_id"], "organization", org, org), first)
    for org, by_user in tt["organization_member_roles"].items():
        for user, roles in by_user.items():
            for r in roles:
                truth.grant((user, "organization_role", r["id"], org), first)
    return truth


def between_1_and_2(api: Admin, s: Story, tt: dict[str, Any]) -> str:
    role = api.call("POST", "/roles", {"name": "history-role"}, "role")["id"]
    api.user_roles("POST", s.a, role)
    api.role_users(role, [s.b, s.c])
    api.user_roles("DELETE", s.d, s.role0)
    # Granted and revoked before the next run: only the log knows.
    api.user_roles("POST", s.f, role)
    api.user_roles("DELETE", s.f, role)
    api.members("POST", s.org, [s.e1, s.e2])
    api.member_roles("POST", s.org, s.e1, role)
    api.members("POST", s.org, [s.g])
    api.members("DELETE", s.org, [s.g])
    client, conn = tt["clients"][0]["client_id"], tt["connections"][0]["id"]
    api.call("PATCH", f"/clients/{client}", {"description": "history 1"}, "client", client)
    api.call("PATCH", f"/connections/{conn}", {"display_name": "History 1"}, "connection", conn)
    return role


def between_2_and_3(api: Admin, s: Story, role: str, tt: dict[str, Any]) -> None:
    api.user_roles("DELETE", s.a, role)
    api.members("DELETE", s.org, [s.e1, s.e2])
    api.delete_user(s.b)
    api.members("DELETE", s.org_b, [s.m])
    client, conn = tt["clients"][-1]["client_id"], tt["connections"][-1]["id"]
    api.call("DELETE", f"/clients/{client}", None, "client", client)
    api.call("DELETE", f"/connections/{conn}", None, "connection", conn)


def between_3_and_4(api: Admin, s: Story, role: str, tt: dict[str, Any], sb: Sandbox) -> None:
    api.user_roles("POST", s.a, role)  # names the role: the run re-reads its members
    api.members("POST", s.org, [s.e2])
    api.user_roles("DELETE", s.c, role)
    api.user_roles("POST", s.c, role)
    # The sandbox's own hand, not logged: the next run's snapshot is the first to know.
    sb.change_user_roles(s.h, [role], True, log=False)
    api.truth.grant((s.h, "role", role, None), ("run", "4", "4"))
    conn = tt["connections"][0]["id"]
    api.call("PATCH", f"/connections/{conn}", {"display_name": "History 3"}, "connection", conn)
    api.create_client("history-client")


@dataclass
class History(BuiltMarts):
    kind: str
    target: str
    marts: str
    dbt_target: Path
    truth: Truth
    runs: list[tuple[str, str]]  # each run's window
    made: list[Any]
    changed_from: datetime
    story: Story
    run_seconds: list[float]  # each run: tap, loader, dbt build

    @property
    def seconds(self) -> float:  # what check_build reports: the last run
        return self.run_seconds[-1]


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def history(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    kind = request.param
    need_meltano()
    need_dbt(kind)
    workdir = tmp_path_factory.mktemp(f"history-{kind}")
    with Sandbox(CONFIG) as sb:
        meltano = MeltanoRunner(workdir, sb.base_url)
        meltano.env["TAP_AUTH0__SELECT"] = json.dumps(["*.*"])
        dbt_target = dbt_paths(meltano, workdir, f"dbt-{kind}")

        def play(target: str, marts: str) -> History:
            runs: list[tuple[str, str]] = []
            seconds: list[float] = []

            def run() -> None:
                started, clock = now(), time.monotonic()
                meltano("run", "tap-auth0", f"target-{kind}", f"dbt-{kind}:build")
                seconds.append(time.monotonic() - clock)
                runs.append((ms(started), ms(now())))

            story = cast(sb)
            tt = sb.tenant_truth()
            truth = initial(sb, ("run", "1", "1"))
            api = Admin(sb, truth)
            run()
            changed_from = now()
            role = between_1_and_2(api, story, tt)
            run()
            between_2_and_3(api, story, role, tt)
            run()
            between_3_and_4(api, story, role, tt, sb)
            run()
            return History(
                kind, target, marts, dbt_target, truth, runs, api.made, changed_from, story,
                seconds,
            )  # fmt: skip

        if kind == "duckdb":
            meltano.env["TARGET_DUCKDB_HARD_DELETE"] = "true"
            yield play(str(workdir / "e2e.duckdb"), "analytics")
            return
        uri = request.getfixturevalue("pg_uri")
        with postgres.meltano_schemas(meltano, uri) as (_, marts):
            yield play(uri, marts)


COLUMNS = (
    "user_id", "access_kind", "target_id", "target_name", "organization_id", "valid_from",
    "valid_from_source", "valid_to", "valid_to_source",
)  # fmt: skip


def mart(h: History) -> list[dict[str, Any]]:
    cols = ", ".join(
        f"CAST({c} AS VARCHAR(30)) AS {c}" if c.startswith("valid_") and "source" not in c
        else c
        for c in COLUMNS
    )  # fmt: skip
    (rows,) = h.sql(f"SELECT {cols} FROM {h.marts}.auth0_access_history")
    for r in rows:
        r["valid_from"], r["valid_to"] = (
            marts_truth.instant(r[c]) for c in ("valid_from", "valid_to")
        )
    return rows


def test_dbt_build_passes(history: History) -> None:
    check_build(history)  # type: ignore[arg-type]
    tests = {r["unique_id"] for r in history.run_results["results"]}
    for name in ("intervals_do_not_overlap", "ends_after_it_begins", "open_grants_are_current"):
        assert f"test.tap_auth0_analytics.assert_access_history_{name}" in tests


def check_bound(got: str | None, source: str | None, want: Bound | None, runs: list) -> str:
    """Why `got`/`source` is not `want`, or ''."""
    if want is None:
        return "" if got is None and source is None else f"{got} {source}, want open"
    kind, first, last = want
    if kind == "run":
        first, last = runs[int(first) - 1]
    if source != kind or got is None or not first <= got <= last:
        return f"{got} {source}, want {kind} in [{first}, {last}]"
    return ""


def test_intervals_equal_the_truth(history: History) -> None:
    rows = mart(history)
    got: dict[Key, list[dict[str, Any]]] = {}
    for r in rows:
        got.setdefault((r["user_id"], r["access_kind"], r["target_id"], r["organization_id"]),
                       []).append(r)  # fmt: skip
    want = history.truth.intervals
    assert set(got) == set(want), (
        sorted(set(got) - set(want))[:3],
        sorted(set(want) - set(got))[:3],
    )
    wrong = []
    for key, spans in want.items():
        have = sorted(got[key], key=lambda r: r["valid_from"])
        if len(have) != len(spans):
            wrong.append((key, spans, have))
            continue
        for (start, end), r in zip(spans, have, strict=True):
            why = check_bound(r["valid_from"], r["valid_from_source"], start, history.runs)
            why += check_bound(r["valid_to"], r["valid_to_source"], end, history.runs)
            if why:
                wrong.append((key, why))
    assert not wrong, wrong[:5]
    by_source: dict[str, int] = {}
    for r in rows:
        k = f"{r['valid_from_source']}->{r['valid_to_source'] or 'open'}"
        by_source[k] = by_source.get(k, 0) + 1
    secs = ", ".join(f"{s:.0f}s" for s in history.run_seconds)
    report(
        f"history {history.kind}: auth0_access_history {len(rows)} intervals of {len(want)}"
        f" grants = the truth over {RUNS} runs ({secs}); bounds"
        f" {dict(sorted(by_source.items()))}"
    )
    s = history.story
    shown = [r for r in rows if r["user_id"] in (s.a, s.b, s.e1, s.f, s.g, s.h, s.m)]
    shown.sort(key=lambda r: (r["user_id"], r["access_kind"], r["valid_from"]))
    report(f"history {history.kind}: rows e.g. ({', '.join(COLUMNS)}):")
    for r in shown[:14]:
        report("  " + " | ".join(str(r[c]) for c in COLUMNS))


def test_grants_between_runs_appear_from_the_log(history: History) -> None:
    """The grants no snapshot saw (made and removed between two runs) are there, both
    bounds from the log."""
    s = history.story
    rows = [
        r for r in mart(history) if r["user_id"] in (s.f, s.g) and r["valid_from_source"] == "log"
    ]
    assert {(r["user_id"], r["access_kind"]) for r in rows} == {
        (s.f, "role"),
        (s.g, "organization"),
    }
    assert all(r["valid_to_source"] == "log" for r in rows), rows


def test_every_call_appears_once_in_admin_activity(history: History) -> None:
    (rows,) = history.sql(
        "SELECT log_id, CAST(event_at AS VARCHAR(30)) AS event_at, actor_client_id, method,"
        " request_path, resource_kind, resource_id, target_user_id, status_code, is_succeeded"
        f" FROM {history.marts}.auth0_admin_activity"
    )
    check_calls_once(rows, history.made, history.changed_from)
    kinds = sorted({c.kind for c in history.made})
    report(
        f"history {history.kind}: {len(history.made)} calls, each once in"
        f" auth0_admin_activity ({', '.join(kinds)})"
    )
