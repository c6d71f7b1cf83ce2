"""Tenant logs over time: events appended between runs (late arrivals included), retention
(both ``expired_from`` behaviours), daily stats and active users, the admin twins, and the
``logs`` rate-limit bucket."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import requests
from auth0_sandbox import Sandbox, SandboxConfig

from tests.support import sandbox_instances as support
from tests.support.logs_api import logs_url, walk
from tests.support.recordings import assert_like, body


@pytest.fixture
def small() -> Iterator[Sandbox]:
    cfg = SandboxConfig(users=120, seed=5, access_token=support.TOKEN, logs=3000, log_days=10)
    with Sandbox(cfg) as sb:
        yield sb


@pytest.fixture
def s() -> Iterator[requests.Session]:
    with support.api_session() as session:
        yield session


def _stats(s: requests.Session, sb: Sandbox, **params: Any) -> requests.Response:
    return s.get(f"{sb.base_url}/api/v2/stats/daily", params=params)


def _day(iso: str) -> str:
    return iso[:10] + "T00:00:00.000Z"


def _counts(events: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    out: dict[str, Counter[str]] = {}
    for e in events:
        out.setdefault(_day(e["date"]), Counter())[e["type"]] += 1
    return {
        d: {
            "logins": c["s"],
            "signups": c["ss"],
            "leaked_passwords": c["pwd_leak"],
            "leaked_passwords_signup": c["signup_pwd_leak"],
        }
        for d, c in out.items()
        if c["s"] + c["ss"] + c["pwd_leak"] + c["signup_pwd_leak"]
    }


# -- second run ------------------------------------------------------------------------------------
def test_appended_events_follow_the_checkpoint(small: Sandbox, s: requests.Session) -> None:
    first, checkpoint, _ = walk(s, small)
    assert len(first) == 3000
    new_ids = small.append_logs(400, late_fraction=0.2, seed=9)
    assert new_ids == sorted(new_ids) and new_ids[0] > checkpoint
    second, _, _ = walk(s, small, start=checkpoint, take=37)
    assert [e["log_id"] for e in second] == new_ids
    # late arrivals: dated minutes to hours before events with smaller ids
    appended_at = datetime.now(timezone.utc) - timedelta(minutes=1)
    late = [e for e in second if e["date"] < appended_at.strftime("%Y-%m-%dT%H:%M:%S")]
    assert 40 < len(late) < 140
    assert any(a["date"] > b["date"] for a, b in zip(second, second[1:], strict=False))
    assert small.logs_truth()[-400:] == second
    # the HTTP twin
    r = requests.post(f"{small.base_url}/_sandbox/logs", params={"count": 5, "late": 0})
    assert r.status_code == 200 and len(r.json()["log_ids"]) == 5
    assert r.json()["log_ids"][0] > new_ids[-1]


def test_today_row_changes_as_events_arrive(small: Sandbox, s: requests.Session) -> None:
    today = datetime.now(timezone.utc).strftime("%Y-%m-%dT00:00:00.000Z")
    before = {r["date"]: r for r in _stats(s, small).json()}
    assert today not in before  # generated history ends at the start of today
    small.append_logs(300, late_fraction=0.0, seed=1)
    rows = {r["date"]: r for r in _stats(s, small).json()}
    if today in rows:  # appended events are dated up to 3 s ago: today unless just after 0h
        assert rows[today]["logins"] + rows[today]["signups"] > 0
        first = rows[today]
        small.append_logs(300, late_fraction=0.0, seed=2)
        again = {r["date"]: r for r in _stats(s, small).json()}[today]
        assert again["logins"] >= first["logins"] and again["updated_at"] >= first["updated_at"]
        assert (again["logins"], again["signups"]) != (first["logins"], first["signups"])


# -- retention -------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["400", "oldest"])
def test_expired_checkpoint(small: Sandbox, s: requests.Session, mode: str) -> None:
    truth = small.logs_truth()
    stats_before = small.stats_truth()
    old_checkpoint = truth[10]["log_id"]
    cut = sorted(e["date"] for e in truth)[1500]
    dropped = small.expire_logs_before(datetime.fromisoformat(cut.replace("Z", "+00:00")))
    assert dropped == 1500
    held = small.logs_truth()
    assert len(held) == 1500 and all(e["date"] >= cut for e in held)
    assert small.stats_truth() == stats_before  # stats keep the whole history
    small.configure(expired_from=mode)
    r = s.get(logs_url(small), params={"from": old_checkpoint, "take": 100})
    if mode == "400":
        assert r.status_code == 400
        assert r.json() == {
            "statusCode": 400,
            "error": "Bad Request",
            "message": "The 'from' parameter is outside the retention period",
            "errorCode": "invalid_query_string",
        }
    else:
        assert r.status_code == 200
        assert r.json() == held[:100]
    # a checkpoint that is still held keeps working in both modes
    r = s.get(logs_url(small), params={"from": held[0]["log_id"], "take": 5})
    assert r.status_code == 200 and r.json() == held[1:6]
    # dropped events are neither searched nor fetched
    gone = next(e for e in truth if e["date"] < cut)
    assert s.get(f"{logs_url(small)}/{gone['log_id']}").status_code == 404
    found = s.get(logs_url(small), params={"q": f"date:[* TO {cut}}}"}).json()
    assert found == []


def test_from_zero_on_an_untouched_tenant_is_not_expired(
    small: Sandbox, s: requests.Session
) -> None:
    small.configure(expired_from="400")
    r = s.get(logs_url(small), params={"from": "0", "take": 2})
    assert r.status_code == 200 and len(r.json()) == 2


def test_retention_days_knob(small: Sandbox, s: requests.Session) -> None:
    stats_before = small.stats_truth()
    small.configure(log_retention_days=4)
    cutoff = datetime.now(timezone.utc) - timedelta(days=4)
    held = small.logs_truth()
    cut = cutoff.strftime("%Y-%m-%dT%H:%M:%S")
    assert held and all(e["date"][:19] >= cut for e in held)
    assert len(held) < 3000
    got, _, _ = walk(s, small, take=100)
    assert got == held
    assert small.stats_truth()["daily"] == stats_before["daily"]
    small.configure(expired_from="400")
    r = s.get(logs_url(small), params={"from": "0", "take": 1})
    assert r.status_code == 400


def test_admin_expire_and_truth_endpoints(small: Sandbox) -> None:
    base = f"{small.base_url}/_sandbox"
    truth = requests.get(f"{base}/logs-truth").json()
    assert truth == small.logs_truth()
    cut = sorted(e["date"] for e in truth)[100]
    r = requests.post(f"{base}/logs/expire", params={"before": cut})
    assert r.json() == {"expired": 100}
    assert len(requests.get(f"{base}/logs-truth").json()) == 2900
    assert requests.get(f"{base}/stats-truth").json() == small.stats_truth()
    assert requests.post(f"{base}/logs/expire").status_code == 400
    assert requests.post(f"{base}/configure", json={"expired_from": "maybe"}).status_code == 400
    with pytest.raises(ValueError):
        small.configure(logs=5)


# -- stats ---------------------------------------------------------------------------------------
def test_daily_stats_shape_as_recorded(small: Sandbox, s: requests.Session) -> None:
    recorded = body("TestStatManager_Daily")
    rows = _stats(s, small).json()
    assert isinstance(rows, list) and rows
    newest_rec = recorded[-1]
    for row in rows:
        assert list(row) == list(newest_rec)  # same keys, same order
        assert_like(row, newest_rec)
        assert row["date"].endswith("T00:00:00.000Z")
        assert row["date"][:10] == row["created_at"][:10] <= row["updated_at"][:10]
    assert isinstance(body("TestStatManager_ActiveUsers"), int)
    active = s.get(f"{small.base_url}/api/v2/stats/active-users")
    assert active.status_code == 200 and isinstance(active.json(), int)
    assert active.text == str(small.stats_truth()["active_users"])


def test_daily_stats_are_sparse_and_count_the_events(small: Sandbox, s: requests.Session) -> None:
    truth = small.logs_truth()
    rows = _stats(s, small).json()
    assert rows == small.stats_truth()["daily"]
    counts = _counts(truth)
    assert {r["date"]: {k: r[k] for k in counts[r["date"]]} for r in rows} == counts
    days = [datetime.fromisoformat(r["date"].replace("Z", "+00:00")) for r in rows]
    gaps = [b - a for a, b in zip(days, days[1:], strict=False)]
    assert any(g > timedelta(days=1) for g in gaps)  # quiet days have no row
    # from/to (inclusive, YYYYMMDD)
    mid = days[len(days) // 2].strftime("%Y%m%d")
    part = _stats(s, small, **{"from": mid, "to": mid}).json()
    assert part == [rows[len(days) // 2]]
    assert _stats(s, small, **{"from": mid}).json() == rows[len(days) // 2 :]
    assert _stats(s, small, to=mid).json() == rows[: len(days) // 2 + 1]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"from": "2024-01-01"}, "'String does not match pattern ^\\d{8}$' on property from"),
        ({"to": "202401"}, "'String does not match pattern ^\\d{8}$' on property to"),
        ({"from": "20241332"}, "'Invalid date 20241332' on property from"),
        ({"from": "20240102", "to": "20240101"}, "'from' date cannot be greater than 'to' date."),
    ],
)
def test_daily_stats_bad_dates(
    small: Sandbox, s: requests.Session, params: dict[str, str], message: str
) -> None:
    r = _stats(s, small, **params)
    assert r.status_code == 400
    assert r.json()["statusCode"] == 400 and message in r.json()["message"]


def test_active_users_are_distinct_recent_logins(small: Sandbox) -> None:
    truth = small.logs_truth()
    since = (datetime.now(timezone.utc) - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%S")
    users = {e["user_id"] for e in truth if e["type"] == "s" and e["date"] >= since}
    assert small.stats_truth()["active_users"] == len(users) > 0
    small.expire_logs_before(datetime.now(timezone.utc))
    assert small.logs_truth() == []
    assert small.stats_truth()["active_users"] == len(users)


def test_no_logs_by_default(s: requests.Session) -> None:
    # A private tenant: the shared one holds the change events of earlier tests' mutations.
    with Sandbox(SandboxConfig(users=20, access_token=support.TOKEN)) as sb:
        _assert_no_logs(sb, s)


def _assert_no_logs(sb: Sandbox, api: requests.Session) -> None:
    assert sb.config.logs == 0 and sb.logs_truth() == []
    r = api.get(logs_url(sb), params={"from": "0", "take": 10})
    assert r.json() == [] and r.headers["Link"] == f'<{logs_url(sb)}?from=0&take=10>; rel="next"'
    assert api.get(logs_url(sb)).json() == []
    assert api.get(f"{sb.base_url}/api/v2/stats/daily").json() == []
    assert api.get(f"{sb.base_url}/api/v2/stats/active-users").json() == 0


def test_default_token_scopes_include_logs_and_stats(sb: Sandbox) -> None:
    assert {"read:logs", "read:stats"} <= set(sb.config.scopes.split())
    assert {"read:logs", "read:stats"} <= set(sb.config.static_scopes.split())


# -- rate limits ----------------------------------------------------------------------------------
def test_logs_bucket_under_essentials(small: Sandbox, s: requests.Session) -> None:
    small.configure(rate_limit_profile="essentials")
    answers = [s.get(logs_url(small), params={"take": 1}) for _ in range(11)]
    assert [r.status_code for r in answers] == [200] * 10 + [429]
    assert answers[0].headers["x-ratelimit-limit"] == "10"
    assert answers[0].headers["x-ratelimit-remaining"] == "9"
    assert s.get(f"{logs_url(small)}/{small.logs.ids[0]}").status_code == 429  # same bucket
    # the stats endpoints live in the shared "other" bucket
    assert _stats(s, small).status_code == 200
    # 100/min refill: one token every 0.6 s
    time.sleep(0.65)
    assert s.get(logs_url(small), params={"take": 1}).status_code == 200
    st = small.stats()
    assert st["by_family"]["logs"] >= 12 and st["rate_limited_by_family"]["logs"] >= 2
