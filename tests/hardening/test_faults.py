"""Faults, all at once, through Meltano into DuckDB: the warehouse still equals the tenant.

The sandbox answers 5% of API requests with a 5xx and resets 2% of connections; a storm
thread switches a tiny rate limit (bucket of 3) on and off every couple of seconds and
expires every token now and then; minted tokens live 3 seconds (client credentials, so
the tap renews ahead of expiry and after a 401); search sees changes 1 second late, and
users change during the first run. A full `meltano run` and an incremental one later,
the DuckDB tables equal the sandbox's truth, row for row and value for value.
"""

from __future__ import annotations

import random
import re
import threading
import time
import typing as t
from pathlib import Path

from auth0_sandbox import Sandbox, SandboxConfig

from tests.support.figures import report
from tests.support.meltano import CLIENT_ID, CLIENT_SECRET, MeltanoRunner, need_meltano
from tests.support.warehouse import assert_matches_truth, query

USERS, SEED = 1500, 5
INDEX_LAG = 1.0
FAULTS = {
    "fault_5xx_rate": 0.05,
    "fault_reset_rate": 0.02,
    "token_lifetime": 3,
    "index_lag_seconds": INDEX_LAG,
}


class Storm(threading.Thread):
    """Every 2 s: 0.7 s of a 3-request bucket refilled at 20/s (429 storms), then no
    limit; every 4th cycle every issued token is expired (401 'Expired token')."""

    def __init__(self, sb: Sandbox) -> None:
        super().__init__(daemon=True)
        self.sb = sb
        self.stop = threading.Event()
        self.storms = 0
        self.expiries = 0

    def run(self) -> None:
        cycle = 0
        while not self.stop.is_set():
            cycle += 1
            self.sb.configure(rate_limit_burst=3, rate_limit_per_second=20)
            self.storms += 1
            if self.stop.wait(0.7):
                break
            self.sb.configure(rate_limit_burst=0, rate_limit_per_second=0)
            if cycle % 4 == 0:
                self.sb.expire_tokens()
                self.expiries += 1
            self.stop.wait(1.3)
        self.sb.configure(rate_limit_burst=0, rate_limit_per_second=0)


class Churn(threading.Thread):
    """Updates a user every 50 ms (searchable only INDEX_LAG later)."""

    def __init__(self, sb: Sandbox) -> None:
        super().__init__(daemon=True)
        self.sb = sb
        self.stop = threading.Event()
        self.changed: set[str] = set()

    def run(self) -> None:
        rng = random.Random(3)
        ids = [u["user_id"] for u in self.sb.truth()]
        n = 0
        while not self.stop.wait(0.05):
            uid = rng.choice(ids)
            n += 1
            self.sb.update_user(uid, user_metadata={"churn": n}, name=f"Churned {n}")
            self.changed.add(uid)


def logged(logs: t.Iterable[Path], pattern: str) -> int:
    regex = re.compile(pattern)
    return sum(len(regex.findall(p.read_text())) for p in logs)


def test_full_and_incremental_runs_survive_every_fault_at_once(tmp_path: Path) -> None:
    need_meltano()
    started = time.monotonic()
    cfg = SandboxConfig(users=USERS, seed=SEED, client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    with Sandbox(cfg) as sb:
        sb.configure(**FAULTS)
        meltano = MeltanoRunner(tmp_path, sb.base_url)
        db = meltano.env["TAP_AUTH0_DUCKDB_PATH"]
        storm = Storm(sb)
        storm.start()
        try:
            # Run 1, while users change (and search lags behind).
            churn = Churn(sb)
            churn.start()
            try:
                meltano("run", "tap-auth0", "target-duckdb")
            finally:
                churn.stop.set()
                churn.join()
            users1, detail1 = query(
                "duckdb",
                db,
                "SELECT user_id FROM auth0.users",
                "SELECT user_id FROM auth0.user_detail",
            )
            # A user changed during run 1 leaves its window (searchable again past the
            # window's end) and is left for run 2: only such users may be missing yet.
            all_ids = {u["user_id"] for u in sb.truth()}
            for rows in (users1, detail1):
                missing = all_ids - {r["user_id"] for r in rows}
                assert missing <= churn.changed, sorted(missing - churn.changed)[:5]

            # Changes between the runs; run 2 resumes from Meltano's state.
            ids = [u["user_id"] for u in sb.truth()]
            for n, uid in enumerate(ids[::300]):
                sb.update_user(uid, name=f"Hardened {n}", user_metadata={"hardened": n})
            for n in range(2):
                sb.create_user(email=f"hardened.new{n}@example.com", name=f"Hardened New {n}")
            time.sleep(INDEX_LAG + 0.2)  # eventual consistency: let search catch up
            meltano("run", "tap-auth0", "target-duckdb")
        finally:
            storm.stop.set()
            storm.join()

        truth = sb.truth()
        assert len(truth) == USERS + 2
        users, detail = query(
            "duckdb", db, "SELECT * FROM auth0.users", "SELECT * FROM auth0.user_detail"
        )
        assert_matches_truth(users, truth, "auth0.users")
        assert_matches_truth(detail, truth, "auth0.user_detail")

        stats = sb.stats()
        by_status = stats["by_status"]
        logs = sorted(tmp_path.glob("meltano-*-run.log"))
        retries = logged(logs, r"; retry \d+/\d+ in ")
        waits = logged(logs, r"rate limited \(429\); waiting")
        renewals = logged(logs, r"token expired; renewing it\b")
        five_xx = sum(v for k, v in by_status.items() if k.startswith("5"))
        report(
            f"faults run: {stats['requests']} API requests; injected {stats['faults_injected']} "
            f"faults ({five_xx} 5xx, {by_status.get('reset', 0)} resets), "
            f"{stats['rate_limited']} 429s in {storm.storms} storms, "
            f"{by_status.get('401', 0)} 401 expired after {storm.expiries} mass expiries, "
            f"{stats['tokens_minted']} tokens minted (3 s lifetime), {len(churn.changed)} users "
            f"changed during run 1; tap logged {retries} retries, {waits} 429 waits, "
            f"{renewals} renewals on 401; warehouse == truth ({len(truth)} users x 2 tables); "
            f"{time.monotonic() - started:.0f}s"
        )
        # Every fault really happened, and every one was survived by a logged retry.
        assert five_xx > 0 and by_status.get("reset", 0) > 0
        assert stats["rate_limited"] > 0 and by_status.get("401", 0) > 0
        assert stats["tokens_minted"] >= 3
        assert retries == stats["faults_injected"], (retries, stats)
        assert waits == stats["rate_limited"], (waits, stats)
        assert renewals == by_status["401"], (renewals, by_status)
