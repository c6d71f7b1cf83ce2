"""`logs`, `stats_daily` and `stats_active_users` against the sandbox over real HTTP, through
the real `tap-auth0` console script, compared with the sandbox's truth.

- 25,000 events, none lost, none duplicated; the request count per 10,000 events.
- Later runs resume from the STATE and read exactly the new events, late arrivals
  (an old `date`, a new `log_id`) included; a run with nothing new costs 2 requests.
- Retention gaps (Auth0 deleted events this tap never read): the run succeeds, logs one
  WARNING, records the gap in the STATE and reads what is still held; with the sandbox
  answering an expired `from` either with the oldest events (`expired_from="oldest"`) or
  with a 400 (`"400"`). A gap-free run says nothing; any other 400 is an error.
- `start_date` honoured; `stats_daily` sparse and re-read over its look-back; one
  `stats_active_users` row.

The busy-tenant, gap-date, gap-loss and holds-nothing tests reproduce bugs found in
`tap_auth0/streams/logs.py` as of a0d1f80/e419107 (see their docstrings).
"""

from __future__ import annotations

import math
import re
import subprocess
import time
import typing as t
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import pytest
from auth0_sandbox import Sandbox, SandboxConfig

from tests.support.cli import run_cli, stderr_lines
from tests.support.figures import report
from tests.support.messages import parse, records
from tests.support.sandbox_instances import intercept
from tests.support.stub_http import Reply, Seen
from tests.support.tap import catalog_selecting

TOKEN = "T"
LOGS_ENDPOINT = "GET /api/v2/logs"
GAP_PREFIX = "Retention gap in 'logs'"
LATE = timedelta(minutes=1)  # the sandbox ingests on-time events within 4 s of their date
LOG_ID = re.compile(r"^900(\d{14})(\d{6})\d{33}$")
Event = dict[str, t.Any]


# -- helpers ----------------------------------------------------------------------------------
def when(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def ingested(log_id: str) -> datetime:
    """The ingestion instant Auth0 encodes in a log_id."""
    m = LOG_ID.match(log_id)
    assert m, log_id
    stamp = datetime.strptime(m.group(1), "%Y%m%d%H%M%S").replace(tzinfo=timezone.utc)
    return stamp + timedelta(microseconds=int(m.group(2)))


def is_late(event: Event) -> bool:
    """Arrived long after its `date`: its log_id is newer than events dated after it."""
    return ingested(event["log_id"]) - when(event["date"]) > LATE


@dataclass
class Run:
    proc: subprocess.CompletedProcess
    msgs: list[dict[str, t.Any]]
    requests: int  # requests to /api/v2/logs during the run
    stream_records: dict[str, list[dict]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.proc.returncode == 0

    def ids(self) -> list[str]:
        return [r["log_id"] for r in self.stream_records["logs"]]

    @property
    def state(self) -> dict:
        states = [m["value"] for m in self.msgs if m["type"] == "STATE"]
        assert states, f"no STATE; stderr: {self.proc.stderr[-2000:]}"
        return states[-1]

    @property
    def bookmark(self) -> dict:
        return self.state["bookmarks"]["logs"]

    def gap_warnings(self) -> list[str]:
        return [line for line in stderr_lines(self.proc.stderr) if line.startswith(GAP_PREFIX)]

    def warning_lines(self) -> list[str]:
        return [line for line in self.proc.stderr.splitlines() if GAP_PREFIX in line]


def config(sb: Sandbox, **extra: t.Any) -> dict[str, t.Any]:
    return {"domain": sb.base_url, "tenant": "sandbox", "access_token": TOKEN, **extra}


def run(
    sb: Sandbox,
    state: dict | None = None,
    streams: t.Iterable[str] = ("logs",),
    **extra: t.Any,
) -> Run:
    """The real console script, only `streams` selected."""
    cfg = config(sb, **extra)
    streams = set(streams)
    sb.reset_stats()
    proc = run_cli(cfg, state=state, catalog=catalog_selecting(cfg, streams), timeout=120)
    msgs = parse(proc.stdout)
    requests = sb.stats()["by_endpoint"].get(LOGS_ENDPOINT, 0)
    out = Run(proc, msgs, requests)
    out.stream_records = {s: records(msgs, s) for s in streams}
    return out


def sandbox(logs: int, seed: int, **kw: t.Any) -> Sandbox:
    return Sandbox(SandboxConfig(users=300, seed=seed, access_token=TOKEN, logs=logs, **kw))


# -- 25,000 events, then runs with new events ---------------------------------------------------
HISTORY, CURRENT = 24_900, 100  # a week of history, then current traffic: 25,000 events


@dataclass
class Step:
    name: str
    run: Run
    new: list[str]  # log_ids the tenant gained since the previous run (all, for run 1)
    truth: list[Event]  # logs_truth() right before the run


@dataclass
class Chain:
    sb: Sandbox
    steps: list[Step]


@pytest.fixture(scope="module")
def chain() -> t.Iterator[Chain]:
    """Run 1 reads 25,000 events; runs 2-4 resume from the previous STATE after 500 new
    events (20 % late), 1,234 new ones (5 % late), and nothing new."""
    with sandbox(HISTORY, seed=21) as sb:
        # The tenant's current traffic: its newest events are dated now, as on a live tenant.
        sb.append_logs(CURRENT, late_fraction=0.0, seed=1)
        steps: list[Step] = []
        state: dict | None = None
        for name, appended, late in (
            ("1 (first)", 0, 0.0),
            ("2", 500, 0.2),
            ("3", 1234, 0.05),
            ("4 (nothing new)", 0, 0.0),
        ):
            before = {e["log_id"] for e in steps[-1].truth} if steps else set()
            if appended:
                sb.append_logs(appended, late_fraction=late, seed=100 + len(steps))
            truth = sb.logs_truth()
            new = [e["log_id"] for e in truth if e["log_id"] not in before]
            result = run(sb, state=state)
            assert result.ok, result.proc.stderr[-3000:]
            steps.append(Step(name, result, new, truth))
            state = result.state
        yield Chain(sb, steps)


def test_25000_events_none_lost_none_duplicated(chain: Chain) -> None:
    first = chain.steps[0]
    ids, truth = first.run.ids(), [e["log_id"] for e in first.truth]
    assert len(truth) == 25_000
    duplicates = len(ids) - len(set(ids))
    missing, extra = set(truth) - set(ids), set(ids) - set(truth)
    per_10k = first.run.requests / len(truth) * 10_000
    report(
        f"logs 25k: {len(ids)} events extracted vs {len(truth)} in truth (missing {len(missing)},"
        f" unexpected {len(extra)}, duplicates {duplicates}); {first.run.requests} requests to"
        f" /api/v2/logs = {per_10k:.1f} per 10,000 events"
    )
    assert not missing, f"{len(missing)} events lost, e.g. {sorted(missing)[:3]}"
    assert not extra and not duplicates
    assert ids == truth, "not in log_id (arrival) order"
    assert sum(map(is_late, first.truth)) > 500, "the history should hold late arrivals"
    # One search for the oldest events, then 100 events a request.
    assert first.run.requests <= 2 + math.ceil(len(truth) / 100)
    # The STATE: the last event read and its date.
    assert first.run.bookmark["replication_key_value"] == truth[-1]
    assert first.run.bookmark["bookmark_date"] == first.truth[-1]["date"]
    # What lands: Auth0's readable type name, scope always an array.
    rows = first.run.stream_records["logs"]
    assert {r["type_name"] for r in rows if r["type"] == "s"} == {"Success Login"}
    scopes = [r["scope"] for r in rows if r.get("scope") is not None]
    assert scopes and all(isinstance(s, list) for s in scopes)


def test_second_run_is_exactly_the_new_events_late_arrivals_included(chain: Chain) -> None:
    first, second = chain.steps[0], chain.steps[1]
    by_id = {e["log_id"]: e for e in second.truth}
    assert len(second.new) == 500
    assert second.run.ids() == second.new, "not exactly the 500 new events, in log_id order"
    last_read = when(first.run.bookmark["bookmark_date"])
    late = [i for i in second.new if is_late(by_id[i])]
    dated_before = [i for i in second.new if when(by_id[i]["date"]) < last_read]
    report(
        f"logs run 2: {len(second.run.ids())} events = the 500 appended; {len(late)} late"
        f" arrivals, {len(dated_before)} dated before run 1's last event"
        f" ({first.run.bookmark['bookmark_date']}); {second.run.requests} requests"
    )
    assert late and dated_before, "no late arrival dated before the last event read"
    assert not set(second.run.ids()) & {e["log_id"] for e in first.truth}


def test_run_by_run_counts(chain: Chain) -> None:
    report("logs run-by-run: run | events emitted | new in truth | late among them | requests")
    for step in chain.steps:
        by_id = {e["log_id"]: e for e in step.truth}
        late = sum(is_late(by_id[i]) for i in step.new)
        emitted = step.run.ids()
        report(
            f"logs run-by-run: {step.name} | {len(emitted)} | {len(step.new)} | {late} |"
            f" {step.run.requests}"
        )
        assert emitted == step.new, f"run {step.name}: not exactly the new events"
    for step in chain.steps[1:]:
        # The oldest-held search, then the new events 100 a page, then one empty page.
        assert step.run.requests == 2 + len(step.new) // 100, step.name
    idle = chain.steps[-1]
    assert idle.run.ids() == [] and idle.run.requests == 2
    assert idle.run.bookmark == chain.steps[-2].run.bookmark


# -- start_date ---------------------------------------------------------------------------------
def test_start_date_in_the_middle_of_the_history() -> None:
    with sandbox(HISTORY, seed=22) as sb:
        truth = sb.logs_truth()
        dates = sorted(e["date"] for e in truth)
        lo, hi = dates[len(dates) // 3], dates[2 * len(dates) // 3]
        # start_date = the date of a late arrival: the oldest event dated >= start_date then
        # arrived hours after events dated after it.
        candidates = [e for e in truth if is_late(e) and lo <= e["date"] <= hi]
        oldest = max(candidates, key=lambda e: ingested(e["log_id"]) - when(e["date"]))
        start = oldest["date"]
        result = run(sb, start_date=start)
        assert result.ok, result.proc.stderr[-3000:]
    ids = result.ids()
    want = [e["log_id"] for e in truth if e["date"] >= start]
    assert min(e["date"] for e in truth if e["date"] >= start) == start
    arrived_first = [e for e in truth if e["date"] >= start and e["log_id"] < oldest["log_id"]]
    late_first = [e for e in arrived_first if is_late(e)]
    report(
        f"logs start_date {start}: {len(ids)} events extracted vs {len(want)} held dated"
        f" >= start_date ({len(truth)} in all); {len(arrived_first)} of them arrived before"
        f" the oldest-dated one ({len(late_first)} late arrivals); {result.requests} requests"
    )
    assert arrived_first and late_first, "the scenario needs events that arrived before it"
    dated_before = [i for i in ids if i not in set(want)]
    assert not dated_before, f"{len(dated_before)} events dated before start_date extracted"
    assert sorted(set(want) - set(ids)) == [], "events dated >= start_date missed"
    assert ids == want


@pytest.mark.parametrize("with_start_date", [True, False], ids=["start_date", "no_start_date"])
def test_first_run_on_a_busy_tenant_misses_nothing(with_start_date: bool) -> None:
    """3,000 events within 3 s. Fails at e419107 (walk started at the smallest log_id of
    the 100 oldest-dated events: 12 resp. 8 events never read)."""
    with sandbox(0, seed=23) as sb:
        sb.append_logs(3000, late_fraction=0.0, seed=3)  # 3,000 events in 3 seconds
        truth = sb.logs_truth()
        start = sorted(e["date"] for e in truth)[1500] if with_start_date else None
        result = run(sb, **({"start_date": start} if start else {}))
        assert result.ok, result.proc.stderr[-3000:]
    want = {e["log_id"] for e in truth if start is None or e["date"] >= start}
    missing = want - set(result.ids())
    report(
        f"logs busy tenant first run ({'start_date ' + start if start else 'no start_date'}):"
        f" {len(result.ids())} extracted vs {len(want)} held, {len(missing)} never read"
    )
    assert not missing, f"{len(missing)} events never read, e.g. {sorted(missing)[:2]}"


# -- retention gaps -------------------------------------------------------------------------------
@dataclass
class Gap:
    mode: str
    first: Run
    second: Run
    held: list[Event]  # after expiry, before run 2
    deleted_unread: list[str]
    held_unread: list[str]  # held events after the bookmark: run 2 must read each


@pytest.fixture(scope="module", params=["oldest", "400"])
def gap(request: pytest.FixtureRequest) -> t.Iterator[Gap]:
    """Run 1 reads the history and the current traffic; 300 events arrive (20 % late,
    dated 2 min to 6 h ago); Auth0 then deletes every event dated before an instant just
    after every event read: all of them, and the ~60 late unread ones. Run 2 resumes from
    run 1's STATE. (Independent of the time of day: nothing depends on the history's end.)"""
    mode = request.param
    with sandbox(3000, seed=24) as sb:
        sb.append_logs(100, late_fraction=0.0, seed=4)
        appended_at = time.monotonic()
        first = run(sb)
        assert first.ok, first.proc.stderr[-3000:]
        bookmark = first.bookmark
        read = sb.logs_truth()
        cutoff = max(when(e["date"]) for e in read) + timedelta(milliseconds=1)
        # On-time new events must be dated after the cutoff (they are dated up to 3 s early).
        time.sleep(max(0.0, appended_at + 4.0 - time.monotonic()))
        new = sb.append_logs(300, late_fraction=0.2, seed=5)
        assert sb.expire_logs_before(cutoff) >= len(read)
        sb.configure(expired_from=mode)
        held = sb.logs_truth()
        held_ids = {e["log_id"] for e in held}
        deleted_unread = [i for i in new if i not in held_ids]
        held_unread = [e["log_id"] for e in held if e["log_id"] > bookmark["replication_key_value"]]
        assert deleted_unread and held_unread == [i for i in new if i in held_ids]
        second = run(sb, state=first.state)
        yield Gap(mode, first, second, held, deleted_unread, held_unread)


def test_retention_gap_warns_once_records_the_gap_and_goes_on(gap: Gap) -> None:
    second, bookmark = gap.second, gap.first.bookmark
    report(
        f"logs retention gap (expired_from={gap.mode}): exit {second.proc.returncode};"
        f" {len(gap.deleted_unread)} unread events deleted, {len(gap.held_unread)} held after"
        f" the bookmark, {len(second.ids())} extracted"
    )
    assert second.ok, second.proc.stderr[-3000:]
    warnings = second.gap_warnings()
    for line in warnings:
        report(f"logs retention gap (expired_from={gap.mode}) WARNING: {line}")
    assert len(warnings) == 1 and len(second.warning_lines()) == 1, warnings
    assert re.search(r" \| WARNING +\| ", second.warning_lines()[0])
    (line,) = warnings
    assert bookmark["bookmark_date"] in line and bookmark["replication_key_value"] in line
    (recorded,) = second.bookmark["retention_gaps"]
    assert recorded["lost_after"] == bookmark["bookmark_date"]
    assert recorded["lost_after_log_id"] == bookmark["replication_key_value"]
    assert recorded["resumed_at"] is not None
    assert when(recorded["detected_at"]) > when(recorded["lost_after"])
    # Only events Auth0 holds, each once; the bookmark moves to the newest one.
    ids = second.ids()
    assert len(ids) == len(set(ids)) and set(ids) <= {e["log_id"] for e in gap.held}
    assert second.bookmark["replication_key_value"] == gap.held[-1]["log_id"]


def test_retention_gap_warning_names_the_oldest_date_held(gap: Gap) -> None:
    """Fails at e419107 (the WARNING named the date of the restart event instead)."""
    oldest = min(e["date"] for e in gap.held)
    (line,) = gap.second.gap_warnings()
    assert f"before {oldest} (the oldest it still holds)" in line, (oldest, line)


def test_retention_gap_run_reads_every_event_still_held_after_the_bookmark(gap: Gap) -> None:
    """Fails at e419107 (restart at the smallest log_id of the 100 oldest-dated held
    events: earlier arrivals dated later were skipped for good)."""
    missing = sorted(set(gap.held_unread) - set(gap.second.ids()))
    by_id = {e["log_id"]: e for e in gap.held}
    report(
        f"logs retention gap (expired_from={gap.mode}): {len(missing)} held unread events"
        f" never read: {[(i, by_id[i]['date']) for i in missing[:3]]}"
    )
    assert not missing


@pytest.mark.parametrize("mode", ["oldest", "400"])
def test_retention_gap_when_auth0_holds_nothing(mode: str) -> None:
    """Fails at e419107 (`held` empty skipped the gap check: silent loss with "oldest",
    exit 4 on the 400 with "400")."""
    with sandbox(500, seed=25) as sb:
        first = run(sb)
        assert first.ok
        sb.append_logs(5, late_fraction=0.0, seed=2)
        sb.configure(expired_from=mode)
        sb.expire_logs_before(datetime.now(timezone.utc) + timedelta(seconds=10))
        assert sb.logs_truth() == []
        second = run(sb, state=first.state)
    report(
        f"logs everything expired (expired_from={mode}): exit {second.proc.returncode},"
        f" gap warnings {len(second.gap_warnings())}"
    )
    assert second.ok, stderr_lines(second.proc.stderr)[-1]
    assert len(second.gap_warnings()) == 1
    assert len(second.bookmark.get("retention_gaps", [])) == 1


def test_gap_free_run_logs_no_warning() -> None:
    with sandbox(3000, seed=26) as sb:
        first = run(sb)
        assert first.ok
        truth = sb.logs_truth()
        # Auth0 deletes half of what was read, nothing unread.
        middle = sorted(e["date"] for e in truth)[1500]
        assert sb.expire_logs_before(middle) > 1000
        new = sb.append_logs(150, late_fraction=0.2, seed=9)
        second = run(sb, state=first.state)
    assert second.ok, second.proc.stderr[-3000:]
    report(
        f"logs gap-free run after Auth0 deleted read events: {len(second.ids())} extracted"
        f" = the {len(new)} new; gap warnings {len(second.warning_lines())}"
    )
    assert second.ids() == new
    assert second.warning_lines() == []
    assert "retention_gaps" not in second.bookmark


def test_another_400_from_logs_is_an_error_not_a_restart() -> None:
    body = {
        "statusCode": 400,
        "error": "Bad Request",
        "message": "Query validation error: 'Invalid checkpoint' on property from (Log Event"
        " Id from which to start selection from).",
        "errorCode": "invalid_query_string",
    }
    seen: list[str] = []

    def fault(req: Seen) -> Reply | None:
        if req.path.startswith("/api/v2/logs"):
            seen.append(req.path)
            if sum("from=" in p for p in seen) == 5:
                return Reply(400, body)
        return None

    with sandbox(2000, seed=27) as sb:
        truth = sb.logs_truth()
        undo = intercept(sb, fault)
        try:
            result = run(sb)
        finally:
            undo()
    lines = stderr_lines(result.proc.stderr)
    report(
        f"logs unrelated 400 on the 5th checkpoint page: exit {result.proc.returncode},"
        f" {len(result.ids())} of {len(truth)} events emitted, {len(seen)} requests;"
        f" last line: {lines[-1] if lines else ''}"
    )
    assert result.proc.returncode != 0
    assert "Invalid checkpoint" in result.proc.stderr
    assert result.warning_lines() == []
    assert "from=" in seen[-1], "requests after the 400: the run restarted"
    assert len(result.ids()) < len(truth)
    # What was emitted before the failure is the start of the log, nothing skipped.
    assert result.ids() == [e["log_id"] for e in truth[: len(result.ids())]]


# -- stats ------------------------------------------------------------------------------------
def test_stats_daily_sparse_lookback_and_active_users() -> None:
    daily_path: list[str] = []

    def spy(req: Seen) -> None:
        if req.path.startswith("/api/v2/stats/daily"):
            daily_path.append(req.path)

    with sandbox(6000, seed=28, log_days=10) as sb:
        sb.append_logs(300, late_fraction=0.0, seed=4)  # today's activity so far
        undo = intercept(sb, spy)
        try:
            first = run(sb, streams=("stats_daily", "stats_active_users"))
            truth = sb.stats_truth()
            added = sb.append_logs(400, late_fraction=0.0, seed=6)
            second = run(sb, state=first.state, streams=("stats_daily", "stats_active_users"))
            truth2 = sb.stats_truth()
        finally:
            undo()
    assert first.ok and second.ok, (first.proc.stderr[-2000:], second.proc.stderr[-2000:])
    rows1 = first.stream_records["stats_daily"]
    days = [when(r["date"]) for r in truth["daily"]]
    quiet = [
        d
        for d in (days[0] + timedelta(days=n) for n in range((days[-1] - days[0]).days))
        if d not in days
    ]
    report(
        f"stats_daily run 1: {len(rows1)} rows vs {len(truth['daily'])} in truth over"
        f" {(days[-1] - days[0]).days + 1} days (quiet days without a row: {len(quiet)})"
    )
    assert quiet, "the sandbox history should have a quiet day"
    assert {r.pop("tenant") for r in rows1} == {"sandbox"}
    assert rows1 == truth["daily"]
    (active,) = first.stream_records["stats_active_users"]
    assert active["active_users"] == truth["active_users"] > 0
    assert active["date"] == datetime.now(timezone.utc).strftime("%Y-%m-%d")

    # Run 2: the look-back days before the bookmark again, today's row updated.
    assert len(added) == 400
    bookmark = when(first.state["bookmarks"]["stats_daily"]["replication_key_value"])
    since = bookmark - timedelta(days=3)
    assert f"from={since.strftime('%Y%m%d')}" in daily_path[-1], daily_path
    rows2 = second.stream_records["stats_daily"]
    assert {r.pop("tenant") for r in rows2} == {"sandbox"}
    want = [r for r in truth2["daily"] if when(r["date"]) >= since]
    today_before, today_after = truth["daily"][-1], truth2["daily"][-1]
    report(
        f"stats_daily run 2 (look-back 3 days): {len(rows2)} rows re-read; today's logins"
        f" {today_before['logins']} -> {rows2[-1]['logins']} (truth {today_after['logins']})"
    )
    assert rows2 == want
    assert when(today_before["date"]).date() == datetime.now(timezone.utc).date()
    assert today_after["date"] == today_before["date"] and today_after != today_before
    assert rows2[-1] == today_after
    (active2,) = second.stream_records["stats_active_users"]
    assert active2["active_users"] == truth2["active_users"]
