"""Progress lines (ETA, at most one per interval) and the closing summary, on a fake clock;
and the HTTP client's tallies per endpoint (requests-mock)."""

from __future__ import annotations

import json
import logging

import pytest
import requests_mock

from tap_auth0.http_client import Auth0HTTP
from tap_auth0.progress import Progress, duration
from tap_auth0.report import RunStats, build_report
from tap_auth0.settings import parse_settings

BASE = "https://acme.us.auth0.com"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_progress_logs_once_an_interval_with_an_eta(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    logger = logging.getLogger("test.progress")
    progress = Progress(logger, "user_detail", "users", lambda: 1000, interval=60, clock=clock)
    with caplog.at_level(logging.INFO, logger="test.progress"):
        for _ in range(100):  # 100 users in 50 s: no line yet
            clock.now += 0.5
            progress.advance()
        assert caplog.messages == []
        clock.now = 61.0
        progress.advance()  # 101 users in 61 s
        clock.now = 62.0
        progress.advance()  # within the interval: no second line
        progress.finish()
    assert caplog.messages[0] == (
        "Progress: user_detail: 101 of 1,000 users (10%), 1.7/s, about 9m03s left"
    )
    assert caplog.messages[1] == "Progress: user_detail: 102 of 1,000 users (10%) in 1m02s"
    assert len(caplog.messages) == 2


def test_progress_without_a_total_gives_the_rate_only(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    progress = Progress(
        logging.getLogger("t"), "users export", "users", None, interval=1, clock=clock
    )
    with caplog.at_level(logging.INFO):
        clock.now = 2.0
        progress.advance(10)
    assert caplog.messages == ["Progress: users export: 10 users, 5.0/s"]


def test_duration() -> None:
    assert [duration(s) for s in (4.4, 469, 12_480)] == ["4s", "7m49s", "3h28m"]


def test_the_client_counts_requests_429s_and_retries_per_endpoint() -> None:
    settings = parse_settings({"domain": BASE, "access_token": "T", "max_retries": 3})
    http = Auth0HTTP(settings, logger=logging.getLogger("t"), sleep=lambda _s: None)
    reset = {"x-ratelimit-limit": "50", "x-ratelimit-remaining": "0", "x-ratelimit-reset": "0"}
    ok = {"x-ratelimit-limit": "50", "x-ratelimit-remaining": "40", "x-ratelimit-reset": "0"}
    with requests_mock.Mocker() as m:
        m.get(
            f"{BASE}/api/v2/roles",
            [
                {"status_code": 429, "json": {}, "headers": reset},
                {"status_code": 503, "json": {"message": "busy"}, "headers": ok},
                {"status_code": 200, "json": [], "headers": ok},
            ],
        )
        m.get(f"{BASE}/api/v2/roles/r1/users", json=[], headers=ok)
        http.get_json("/roles", bucket="/roles")
        http.get_json("/roles/r1/users", bucket="/roles/{role_id}/users")
    roles = http.stats.endpoints["/roles"]
    assert (roles.requests, roles.throttled, roles.retries) == (3, 1, 2)
    members = http.stats.endpoints["/roles/{role_id}/users"]
    assert (members.requests, members.throttled, members.retries) == (1, 0, 0)


def test_the_summary_maps_endpoints_to_streams_and_writes_json(tmp_path) -> None:
    clock = Clock()
    stats = RunStats(clock=clock)
    stats.sent("/api/v2/users", retry=False)
    clock.now = 2.0
    stats.sent("/users/{id}", retry=False)
    stats.throttled("/users/{id}")
    clock.now = 5.0
    stats.sent("/users/{id}", retry=True)
    report = build_report(
        status="complete, with streams skipped",
        seconds=6.0,
        stats=stats,
        records={"users": 2, "user_detail": 1},
        paths={"/users": "users", "/users/{user_id}": "user_detail"},
        order=["users", "user_detail", "roles"],
        skipped={"roles": "needs read:roles"},
        retention_gaps=[{"lost_after": "2026-01-01T00:00:00.000Z", "resumed_at": None}],
        held_back={"users": (1000, 3000)},
    )
    table = report.table()
    assert table[0] == "Run summary (complete, with streams skipped, 6.0s):"
    assert table[2].split() == ["users", "2", "1", "0", "0", "0.0"]
    assert table[3].split() == ["user_detail", "1", "2", "1", "1", "3.0"]
    assert table[4].split() == ["total", "3", "3", "1", "1", "6.0"]
    assert table[5] == "  skipped: roles (needs read:roles)"
    assert table[6] == (
        "  held back: users read 1,000 rows, 3,000 last time; ACTIVATE_VERSION not sent "
        "(max_table_shrink)"
    )
    assert table[7].startswith("  logs retention gap: events after 2026-01-01T00:00:00.000Z")
    path = tmp_path / "run.json"
    report.write(str(path))
    data = json.loads(path.read_text())
    assert data["totals"] == {"records": 3, "requests": 3, "429s": 1, "retries": 1}
    assert data["streams"][1] == {
        "stream": "user_detail",
        "records": 1,
        "requests": 2,
        "429s": 1,
        "retries": 1,
        "seconds": 3.0,
    }
    assert data["skipped"] == {"roles": "needs read:roles"}
    assert data["held_back"] == {"users": {"rows": 1000, "last_rows": 3000}}
