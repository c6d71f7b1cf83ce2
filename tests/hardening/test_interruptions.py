"""Interruptions: the real `tap-auth0` killed at many points, each time resumed from the
last STATE it emitted; nothing may be lost.

Each attempt is the console script reading a sandbox, its stdout read line by line. At
the kill point it gets SIGKILL (no chance to flush or clean up). The next attempt starts
from the last complete STATE line of the killed one. Only what a target could have
committed counts for a killed attempt: its records up to that last STATE (records after
it may be lost with the target's uncommitted batch). The union of those and of the final,
complete attempt must be every user of the tenant, for `users` and for `user_detail`.
`lookback_seconds` is 0 so that the look-back cannot hide a bookmark that ran ahead.
"""

from __future__ import annotations

import re
import signal
import threading
import time
import typing as t
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import quote

import pytest
from auth0_sandbox import Sandbox, SandboxConfig

from tests.support.cli import Attempt, Progress, Trigger, last_stderr_line, run_streamed
from tests.support.figures import report
from tests.support.messages import record_ids
from tests.support.tap import catalog_adding, catalog_selecting

STREAMS = ("users", "user_detail")
USERS = 1200  # the tap emits a STATE every 1000 users
SEED = 49
TIE = 200  # a bulk import sharing one updated_at: users 900..1099 of the scan, so the
# STATE at 1000 lands inside it (and a tie scan runs: the group is larger than a page)
CLIENT_ID, CLIENT_SECRET = "hardening-id", "hardening-secret-0123456789"
QUIET = {
    "latency_ms": 0,
    "rate_limit_burst": 0,
    "rate_limit_per_second": 0,
    "fault_5xx_rate": 0.0,
    "fault_reset_rate": 0.0,
    "token_lifetime": 86400,
    "export_seconds": 2.0,
}


@pytest.fixture(scope="module")
def sb() -> t.Iterator[Sandbox]:
    cfg = SandboxConfig(
        users=USERS - TIE + 1, seed=SEED, client_id=CLIENT_ID, client_secret=CLIENT_SECRET
    )
    with Sandbox(cfg) as sandbox:
        value = sorted(u["updated_at"] for u in sandbox.truth())[900]
        for n in range(TIE - 1):
            sandbox.create_user(email=f"bulk{n}@example.com", updated_at=value)
        assert len(sandbox.truth()) == USERS
        yield sandbox


@pytest.fixture
def box(sb: Sandbox) -> t.Iterator[Sandbox]:
    """The module's sandbox, quiet again (knobs, token hook) after each test."""
    yield sb
    sb.configure(**QUIET)
    sb.tokens.__dict__.pop("mint", None)
    sb.__dict__.pop("handle_download", None)
    sb.__dict__.pop("handle_api", None)


# The listing tests run as one keyset chain, and as up to eight concurrent windows split
# down to 100 users (so these 1,200 users make several, and the bookmark is the floor).
LISTING = {
    "one-chain": {"users_list_windows": 1},
    "windows": {"users_list_windows": 8, "users_list_min_window": 100},
}


@pytest.fixture(params=list(LISTING))
def listing(request) -> dict[str, t.Any]:
    return LISTING[request.param]


def config(sb: Sandbox, listing: dict[str, t.Any] | None = None) -> dict[str, t.Any]:
    return {
        "domain": sb.base_url,
        "tenant": "sandbox",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "lookback_seconds": 0,
        **(listing or {}),
    }


def tie_value(sb: Sandbox) -> str:
    value, size = Counter(u["updated_at"] for u in sb.truth()).most_common(1)[0]
    assert size >= TIE
    return value


def windows_label(listing: dict[str, t.Any]) -> str:
    return "one chain" if listing.get("users_list_windows") == 1 else "windows"


# -- kill triggers --------------------------------------------------------------------------
def users_at_least(n: int) -> Trigger:
    return lambda p: p.counts["users"] >= n


def details_ahead(n: int) -> Trigger:
    """Inside detail fetching: >= n details emitted and some of their users not yet."""
    return lambda p: p.counts["user_detail"] >= n and p.counts["user_detail"] > p.counts["users"]


def at_state(k: int) -> Trigger:
    return lambda p: p.states >= k and p.last is not None and p.last["type"] == "STATE"


def first_line(kind: str, stream: str | None = None) -> Trigger:
    def check(p: Progress) -> bool:
        m = p.last
        return m is not None and m["type"] == kind and (stream is None or m["stream"] == stream)

    return check


def in_tie_group(value: str, k: int) -> Trigger:
    """After the k-th user of the bulk-import group (inside the tie scan)."""
    seen = {"n": 0, "lines": -1}

    def check(p: Progress) -> bool:
        m = p.last
        if p.lines != seen["lines"] and m and m["type"] == "RECORD" and m["stream"] == "users":
            seen["lines"] = p.lines
            seen["n"] += m["record"]["updated_at"] == value
        return seen["n"] >= k

    return check


def past_tie_group(value: str) -> Trigger:
    """The first user after the bulk-import group: between a tie scan and the next page."""

    def check(p: Progress) -> bool:
        m = p.last
        return bool(
            m
            and m["type"] == "RECORD"
            and m["stream"] == "users"
            and m["record"]["updated_at"] > value
            and p.counts["users"] > 1000
        )

    return check


def armed(sb: Sandbox, after_users: int, knobs: dict[str, t.Any], pattern: str) -> Trigger:
    """Once `after_users` users are out, turn `knobs` on; fire at the next stderr line
    matching `pattern` (the tap waiting for a 429 reset, backing off after a 5xx...)."""
    regex = re.compile(pattern)
    st = {"mark": None}
    lock = threading.Lock()

    def check(p: Progress) -> bool:
        with lock:
            if st["mark"] is None:
                if p.counts["users"] < after_users:
                    return False
                st["mark"] = len(p.stderr)
                sb.configure(**knobs)
                return False
            return any(regex.search(line) for line in p.stderr[st["mark"] :])

    return check


def throttled(sb: Sandbox, after_users: int) -> Trigger:
    """Once `after_users` users are out, shrink the tenant's bucket and let another client
    of the tenant keep spending it (a real bucket is shared): the tap's next requests meet
    429s however well it paces its own. Fire at its first wait for the reset."""
    knobs = {"rate_limit_burst": 2, "rate_limit_per_second": 5}
    check = armed(sb, after_users, knobs, r"\(429\)")
    drain = threading.Event()

    def other_client() -> None:
        until = time.monotonic() + 30
        while time.monotonic() < until and sb.config.rate_limit_burst == knobs["rate_limit_burst"]:
            sb.limiter.take("other")
            time.sleep(0.01)

    def armed_and_drained(p: Progress) -> bool:
        fired = check(p)
        if not drain.is_set() and sb.config.rate_limit_burst == knobs["rate_limit_burst"]:
            drain.set()
            threading.Thread(target=other_client, daemon=True).start()
        return fired

    return armed_and_drained


def hook_mints(sb: Sandbox, fire_at: int, hold: float, before: t.Callable[[], None] | None = None):
    """Count token mints; from the `fire_at`-th on, set the event and hold the mint open
    `hold` seconds, so the kill lands while the tap is renewing its token."""
    event = threading.Event()
    original = type(sb.tokens).mint.__get__(sb.tokens)
    count = {"n": 0}

    def mint(scopes: str, lifetime: float) -> str:
        count["n"] += 1
        if count["n"] >= fire_at:
            event.set()
            time.sleep(hold)
        return original(scopes, lifetime)

    sb.tokens.mint = mint  # type: ignore[method-assign]
    return event, count


# -- the resume loop ---------------------------------------------------------------------------
def never(p: Progress) -> bool:
    return False


@dataclass
class KillPoint:
    name: str
    # One trigger per killed attempt (made from the sandbox); then a run to completion.
    triggers: list[t.Callable[[Sandbox], Trigger]]
    knobs: dict[str, t.Any] = field(default_factory=dict)
    # Kill inside the token endpoint, on the tap's second mint: "ahead" (renewal before
    # expiry, tiny token lifetime) or "401" (every token expired mid-run).
    renewal: str | None = None
    # Kill while the sandbox holds the Get a User request of the last user in the scan:
    # the listing is complete, the final STATE not yet written.
    hold_last_detail: bool = False


def run_with_kills(
    cfg: dict[str, t.Any],
    triggers: list[Trigger],
    *,
    state: dict | None = None,
    sig: int = signal.SIGKILL,
    externals: list[threading.Event] | None = None,
    calm: t.Callable[[], None] | None = None,
) -> list[Attempt]:
    """Kill attempt i when triggers[i] holds (or externals[i] is set), resuming each from
    its last STATE; then run to completion. `calm()` runs after each kill (faults off)."""
    attempts: list[Attempt] = []
    for i in range(len(triggers) + 1):
        last = i == len(triggers)
        external = externals[i] if externals and i < len(externals) else None
        attempt = run_streamed(
            cfg,
            state=state,
            catalog=catalog_adding(cfg, {"user_detail"}),
            trigger=None if last else triggers[i],
            sig=sig,
            external=external,
        )
        attempts.append(attempt)
        if last:
            assert attempt.returncode == 0, attempt.stderr[-3000:]
            assert not attempt.partial_tail
            break
        assert attempt.fired, f"attempt {i + 1} ended (rc {attempt.returncode}) before its kill"
        if sig == signal.SIGKILL:
            assert attempt.returncode == -signal.SIGKILL, attempt.stderr[-2000:]
        else:
            assert_clean_stop(attempt, sig)
        state = attempt.last_state or state
        if calm is not None:
            calm()
    return attempts


def assert_clean_stop(attempt: Attempt, sig: int) -> None:
    """SIGTERM/SIGINT: a final STATE is the last line, exit 128+signal, one error line."""
    assert attempt.msgs and attempt.msgs[-1]["type"] == "STATE", "last line is not a STATE"
    assert not attempt.partial_tail
    name = signal.Signals(sig).name
    assert attempt.returncode == 128 + sig, (attempt.returncode, attempt.stderr[-2000:])
    assert last_stderr_line(attempt.stderr) == (
        f"tap-auth0: error: stopped by {name}; the next run resumes from the last STATE emitted"
    )
    assert "Traceback" not in attempt.stderr


def assert_nothing_lost(sb: Sandbox, attempts: list[Attempt]) -> dict[str, int]:
    """Committed records of killed attempts + the final run == the tenant. Returns how
    many records were emitted more than once (re-read after a resume)."""
    truth = {u["user_id"] for u in sb.truth()}
    got: dict[str, set[str]] = {s: set() for s in STREAMS}
    emitted: Counter = Counter()
    for i, attempt in enumerate(attempts):
        final = i == len(attempts) - 1
        for s in STREAMS:
            got[s] |= record_ids(attempt.msgs if final else attempt.committed(), s)
        emitted.update(m["stream"] for m in attempt.msgs if m["type"] == "RECORD")
    for s in STREAMS:
        missing = truth - got[s]
        assert not missing, f"{s}: {len(missing)} users lost, e.g. {sorted(missing)[:3]}"
        assert got[s] == truth, f"{s}: {len(got[s] - truth)} unknown user ids"
    state = attempts[-1].last_state
    assert state is not None
    newest = max(u["updated_at"] for u in sb.truth())
    assert state["bookmarks"]["users"]["replication_key_value"] >= newest
    return {s: emitted[s] - len(truth) for s in STREAMS}


def describe(attempts: list[Attempt]) -> str:
    parts = []
    for a in attempts[:-1]:
        n = sum(m["type"] == "RECORD" for m in a.msgs)
        cut = ", cut line" if a.partial_tail else ""
        parts.append(f"killed after {n} records{cut} -> resume from {_bookmark(a)}")
    return "; ".join(parts)


def _bookmark(attempt: Attempt) -> str:
    state = attempt.last_state
    users = (state or {}).get("bookmarks", {}).get("users", {})
    value = users.get("replication_key_value")
    above = users.get("listed_above") or []
    positions = users.get("window_positions") or []
    skip = f" skipping {len(above)} range(s) read" if above else ""
    skip += f", {len(positions)} window(s) continued" if positions else ""
    return f"{value}{skip}" if value else "the start"


KILL_POINTS = [
    KillPoint("before-any-record", [lambda sb: first_line("SCHEMA", "user_detail")]),
    KillPoint("listing-first-pages", [lambda sb: users_at_least(150)]),
    KillPoint("right-after-first-state", [lambda sb: at_state(1)]),
    KillPoint("inside-tie-group", [lambda sb: in_tie_group(tie_value(sb), 120)]),
    KillPoint("between-tie-group-and-next-page", [lambda sb: past_tie_group(tie_value(sb))]),
    KillPoint(
        "inside-detail-fetching-with-latency",
        [lambda sb: details_ahead(1050)],
        knobs={"latency_ms": 3},
    ),
    KillPoint(
        "during-token-renewal-ahead-of-expiry",
        [lambda sb: never],
        knobs={"token_lifetime": 1, "latency_ms": 2},
        renewal="ahead",
    ),
    KillPoint("during-token-renewal-after-401-expired", [lambda sb: never], renewal="401"),
    KillPoint(
        "waiting-for-429-reset",
        [lambda sb: throttled(sb, 1050)],
    ),
    KillPoint(
        "backing-off-after-5xx",
        [lambda sb: armed(sb, 1050, {"fault_5xx_rate": 0.3}, r"retry \d+/")],
    ),
    KillPoint(
        "backing-off-after-connection-reset",
        [lambda sb: armed(sb, 600, {"fault_reset_rate": 0.3}, r"retry \d+/")],
    ),
    KillPoint(
        "last-detail-in-flight-before-final-state", [lambda sb: never], hold_last_detail=True
    ),
    # The first kill comes after the STATE at 1,000 users, so each later run resumes from
    # it with at least the 200 users it did not cover (more if the floor is lower). A resumed
    # run killed at 120 users emits no STATE (the next is due at 1,000), so the third run
    # resumes from the same one: both kills land with users still to read.
    KillPoint(
        "three-kills-in-a-row",
        [
            lambda sb: users_at_least(1050),
            lambda sb: users_at_least(120),
            lambda sb: users_at_least(120),
        ],
    ),
]


@pytest.mark.parametrize("point", KILL_POINTS, ids=lambda p: p.name)
def test_sigkill_then_resume_loses_nothing(box: Sandbox, point: KillPoint, listing) -> None:
    sb = box
    started = time.monotonic()
    if point.knobs:
        sb.configure(**point.knobs)
    triggers = [make(sb) for make in point.triggers]
    externals = None
    if point.renewal is not None:
        event, _ = hook_mints(sb, fire_at=2, hold=0.5)
        externals = [event]
        if point.renewal == "401":
            triggers = [expire_tokens_at(sb, 1050)]
    if point.hold_last_detail:
        last = max(sb.truth(), key=lambda u: (u["updated_at"], u["user_id"]))["user_id"]
        path = f"/api/v2/users/{quote(last, safe='')}"
        externals = [hold_api(sb, lambda req: req.path == path, hold=0.5)]

    def calm() -> None:
        sb.configure(**QUIET)
        sb.tokens.__dict__.pop("mint", None)
        sb.__dict__.pop("handle_api", None)

    attempts = run_with_kills(config(sb, listing), triggers, externals=externals, calm=calm)
    reread = assert_nothing_lost(sb, attempts)
    report(
        f"SIGKILL {point.name} ({windows_label(listing)}): {describe(attempts)}; "
        "nothing lost (re-read "
        f"{reread['users']} users, {reread['user_detail']} details; "
        f"{time.monotonic() - started:.1f}s)"
    )


def expire_tokens_at(sb: Sandbox, users: int) -> Trigger:
    """Expire every token once `users` users are out (the tap must renew on the 401)."""
    done = threading.Event()

    def check(p: Progress) -> bool:
        if not done.is_set() and p.counts["users"] >= users:
            done.set()
            sb.expire_tokens()
        return False

    return check


SIGTERM_POINTS = [
    KillPoint(
        "mid-listing-twice", [lambda sb: users_at_least(400), lambda sb: users_at_least(300)]
    ),
    KillPoint(
        "inside-detail-fetching-with-latency",
        [lambda sb: details_ahead(700)],
        knobs={"latency_ms": 3},
    ),
    KillPoint(
        "waiting-for-429-reset",
        [lambda sb: throttled(sb, 1110)],
    ),
    KillPoint("inside-tie-group-after-a-state", [lambda sb: in_tie_group(tie_value(sb), 120)]),
]


@pytest.mark.parametrize("point", SIGTERM_POINTS, ids=lambda p: getattr(p, "name", None))
def test_sigterm_emits_a_final_state_and_resuming_loses_nothing(
    box: Sandbox, point: KillPoint, listing
) -> None:
    """SIGTERM (what Meltano and schedulers send): the SDK writes the current state as
    the last line; it is mid-page (not a 1000-record STATE), and resuming from it works."""
    sb = box
    started = time.monotonic()
    sb.configure(**point.knobs)

    def calm() -> None:
        sb.configure(**QUIET)

    triggers = [make(sb) for make in point.triggers]
    attempts = run_with_kills(config(sb, listing), triggers, sig=signal.SIGTERM, calm=calm)
    reread = assert_nothing_lost(sb, attempts)
    report(
        f"SIGTERM {point.name} ({windows_label(listing)}): {describe(attempts)}; "
        "exit 143, final STATE, nothing lost "
        f"(re-read {reread['users']} users; {time.monotonic() - started:.1f}s)"
    )


def hold_api(sb: Sandbox, match: t.Callable[[t.Any], bool], hold: float) -> threading.Event:
    """Set the event when an /api/v2 request matching `match` arrives; answer `hold` s
    later (the tap waits on it meanwhile)."""
    event = threading.Event()
    original = type(sb).handle_api.__get__(sb)

    def handle_api(req: t.Any) -> t.Any:
        if match(req):
            event.set()
            time.sleep(hold)
        return original(req)

    sb.handle_api = handle_api  # type: ignore[method-assign]
    return event


def hold_downloads(sb: Sandbox, hold: float) -> threading.Event:
    """Set the event when the tap asks for the export file, and answer `hold` s later."""
    event = threading.Event()
    original = type(sb).handle_download.__get__(sb)

    def handle_download(req: t.Any) -> t.Any:
        event.set()
        time.sleep(hold)
        return original(req)

    sb.handle_download = handle_download  # type: ignore[method-assign]
    return event


@pytest.mark.parametrize("where", ["waiting-for-the-file", "mid-file"])
def test_sigkill_during_an_export_download_then_resume(box: Sandbox, where: str) -> None:
    """users_extraction=export: killed while the export file downloads, then resumed."""
    sb = box
    started = time.monotonic()
    sb.configure(export_seconds=0.3)
    cfg = {**config(sb), "users_extraction": "export"}
    if where == "mid-file":
        triggers, externals = [users_at_least(600)], None
    else:
        triggers, externals = [never], [hold_downloads(sb, 1.0)]

    def calm() -> None:
        sb.__dict__.pop("handle_download", None)

    attempts = run_with_kills(cfg, triggers, externals=externals, calm=calm)
    reread = assert_nothing_lost(sb, attempts)
    report(
        f"SIGKILL export download ({where}): {describe(attempts)}; nothing lost (re-read "
        f"{reread['users']} users; {time.monotonic() - started:.1f}s)"
    )


RESUME_USERS, RESUME_WINDOWS, PAGE = 6000, 4, 100


@pytest.mark.parametrize(
    ("sig", "at"), [(signal.SIGKILL, 3050), (signal.SIGTERM, 4050)], ids=["SIGKILL", "SIGTERM"]
)
def test_a_resumed_windowed_run_reads_again_at_most_a_page_per_window(sig: int, at: int) -> None:
    """Windows caught mid-way by the interruption continue from their positions in the
    STATE: the resumed run lists again at most about a page per window (the boundary users
    at each position, and the page the STATE was written in), not each window from its
    start (on main: about 1,000 of the 3,000 or 4,000 written were listed again)."""
    started = time.monotonic()
    cfg_sb = SandboxConfig(
        users=RESUME_USERS, seed=SEED, client_id=CLIENT_ID, client_secret=CLIENT_SECRET
    )
    with Sandbox(cfg_sb) as sb:
        cfg = config(sb, {"users_list_windows": RESUME_WINDOWS, "users_list_min_window": 2 * PAGE})
        catalog = catalog_selecting(cfg, {"users"})
        killed = run_streamed(cfg, catalog=catalog, trigger=users_at_least(at), sig=sig)
        assert killed.fired and killed.last_state is not None
        resumed = run_streamed(cfg, catalog=catalog, state=killed.last_state)
        assert resumed.returncode == 0, resumed.stderr[-2000:]
        truth = {u["user_id"] for u in sb.truth()}
    committed = record_ids(killed.committed(), "users")
    again = [m["record"]["user_id"] for m in resumed.msgs if m["type"] == "RECORD"]
    assert committed | set(again) == truth, "a user lost by the resume"
    duplicates = len(set(again) & committed)
    report(
        f"{signal.Signals(sig).name} a {RESUME_WINDOWS}-window listing of {RESUME_USERS:,} "
        f"users at {len(committed):,} written: the resumed run listed {len(again):,}, "
        f"{duplicates} of them again ({time.monotonic() - started:.1f}s)"
    )
    assert duplicates <= RESUME_WINDOWS * PAGE + PAGE
    assert len(again) <= len(truth - committed) + RESUME_WINDOWS * PAGE + PAGE


def test_sigkill_during_an_incremental_run(box: Sandbox, listing) -> None:
    """Last (it changes the tenant): a complete run, 400 users change, then the
    incremental run is killed twice; every change still arrives, with its new values."""
    sb = box
    started = time.monotonic()
    full = run_with_kills(config(sb, listing), [])
    state = full[-1].last_state
    changed = set(sb.touch(400, seed=9))
    attempts = run_with_kills(
        config(sb, listing), [users_at_least(150), users_at_least(120)], state=state
    )
    truth = {u["user_id"]: u for u in sb.truth()}
    for s in STREAMS:
        latest: dict[str, dict] = {}
        for i, attempt in enumerate(attempts):
            msgs = attempt.msgs if i == len(attempts) - 1 else attempt.committed()
            for m in msgs:
                if m["type"] == "RECORD" and m["stream"] == s:
                    latest[m["record"]["user_id"]] = m["record"]
        missing = changed - set(latest)
        assert not missing, f"{s}: {len(missing)} changed users lost"
        stale = [u for u in changed if latest[u]["user_metadata"] != truth[u]["user_metadata"]]
        assert not stale, f"{s}: {len(stale)} changed users with old values"
    report(
        f"SIGKILL incremental run ({windows_label(listing)}): {describe(attempts)}; "
        "all 400 changes arrived "
        f"({time.monotonic() - started:.1f}s)"
    )
