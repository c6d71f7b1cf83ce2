"""logs by checkpoint in log_id order (late arrivals kept), retention gaps never silent,
start_date honoured; stats_daily with its look-back; one active-users row per day."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

from tap_auth0.values import iso_ms
from tests.support.messages import last_state, records
from tests.support.mock_tenant import Tenant, mount_tenant
from tests.support.tap import catalog_selecting, run_inprocess

CONFIG = {"domain": "https://acme.us.auth0.com", "access_token": "T"}
T0 = datetime(2026, 11, 20, tzinfo=timezone.utc)


def log_id(n: int) -> str:
    """Auth0's shape: "900", the arrival time to the microsecond, then a sequence."""
    arrived = T0 + timedelta(seconds=10 * n, milliseconds=5)
    return f"900{arrived:%Y%m%d%H%M%S}{arrived.microsecond:06d}{n:033d}"


def events(start: int, count: int, *, late_every: int = 0) -> list[dict]:
    """Events in arrival (log_id) order; every `late_every`-th one is dated 2 h earlier."""
    out = []
    for n in range(start, start + count):
        when = T0 + timedelta(seconds=10 * n)
        if late_every and n % late_every == 0:
            when -= timedelta(hours=2)
        out.append(
            {
                "log_id": log_id(n),
                "date": iso_ms(when),
                "type": "s" if n % 3 else "fp",
                "scope": "openid profile" if n % 2 else ["openid", "email"],
                "details": {"prompts": []},
            }
        )
    return out


def run(requests_mock, tenant, state=None, config=CONFIG, streams=("logs",)):
    mount_tenant(requests_mock, tenant)
    return run_inprocess(config, state=state, catalog=catalog_selecting(config, set(streams)))


def test_every_event_once_in_log_id_order_late_arrivals_included(requests_mock):
    tenant = Tenant(logs=events(1, 2500, late_every=37))
    first = run(requests_mock, tenant)
    got = [r["log_id"] for r in records(first, "logs")]
    assert got == [e["log_id"] for e in tenant.logs]
    state = last_state(first)["bookmarks"]["logs"]
    assert state["replication_key_value"] == log_id(2500)
    assert state["bookmark_date"] == tenant.logs[-1]["date"]
    checkpoint = [r for r in tenant.requests if "take=100" in r]
    # 25 full pages, then the empty page that says there is nothing newer.
    assert len(checkpoint) == 26

    # New events arrive, some dated before the last event read: all of them, nothing else.
    tenant.logs += events(2501, 130, late_every=5)
    tenant.requests.clear()
    second = run(requests_mock, tenant, state=last_state(first))
    assert [r["log_id"] for r in records(second, "logs")] == [log_id(n) for n in range(2501, 2631)]
    assert f"from={log_id(2500)}" in next(r for r in tenant.requests if "take=" in r)


def test_type_name_and_details(requests_mock):
    tenant = Tenant(logs=events(1, 3) + [{**events(4, 1)[0], "type": "zz_unknown"}])
    rows = records(run(requests_mock, tenant), "logs")
    assert [r["type_name"] for r in rows] == [
        "Failed Login (Incorrect Password)"
        if r["type"] == "fp"
        else "Success Login"
        if r["type"] == "s"
        else None
        for r in rows
    ]
    assert rows[-1]["type_name"] is None and all("details" in r for r in rows)
    assert [r["scope"] for r in rows[:2]] == [["openid", "profile"], ["openid", "email"]]
    no_details = run(requests_mock, tenant, config={**CONFIG, "logs_include_details": False})
    assert all("details" not in r for r in records(no_details, "logs"))


def test_retention_gap_is_one_warning_and_recorded_in_state(requests_mock, caplog):
    tenant = Tenant(logs=events(1, 50))
    first = run(requests_mock, tenant)
    # Auth0 deletes everything read so far and more before the next run.
    tenant.logs = events(80, 40)
    with caplog.at_level(logging.WARNING):
        second = run(requests_mock, tenant, state=last_state(first))
    assert [r["log_id"] for r in records(second, "logs")] == [log_id(n) for n in range(80, 120)]
    warnings = [r.getMessage() for r in caplog.records if "Retention gap" in r.getMessage()]
    assert len(warnings) == 1
    assert events(50, 1)[0]["date"] in warnings[0] and events(80, 1)[0]["date"] in warnings[0]
    (gap,) = last_state(second)["bookmarks"]["logs"]["retention_gaps"]
    assert gap["lost_after_log_id"] == log_id(50) and gap["resumed_at"] == events(80, 1)[0]["date"]


def test_no_gap_no_warning(requests_mock, caplog):
    tenant = Tenant(logs=events(1, 50))
    first = run(requests_mock, tenant)
    tenant.logs = tenant.logs[10:] + events(51, 5)  # old events expired, none unread
    with caplog.at_level(logging.WARNING):
        second = run(requests_mock, tenant, state=last_state(first))
    assert len(records(second, "logs")) == 5
    assert not [r for r in caplog.records if "Retention gap" in r.getMessage()]
    assert "retention_gaps" not in last_state(second)["bookmarks"]["logs"]


def test_start_date_first_run_reads_every_event_dated_after_it(requests_mock):
    # Event 120 arrived 2 h late: dated before events 100..119, after the start date.
    tenant = Tenant(logs=events(1, 200, late_every=120))
    start = T0 + timedelta(seconds=10 * 100)
    messages = run(requests_mock, tenant, config={**CONFIG, "start_date": iso_ms(start)})
    got = [r["log_id"] for r in records(messages, "logs")]
    want = [e["log_id"] for e in tenant.logs if e["date"] >= iso_ms(start)]
    assert got == want
    assert log_id(120) not in got  # dated 2 h before the start date


def test_stats_daily_rereads_the_lookback_and_active_users_is_one_row(requests_mock):
    days = [T0 - timedelta(days=d) for d in (9, 6, 5, 1)]  # sparse: no rows on idle days
    tenant = Tenant(
        stats_daily=[
            {"date": iso_ms(d), "logins": 3, "signups": 1, "leaked_passwords": 0} for d in days
        ],
        active_users=42,
    )
    first = run(requests_mock, tenant, streams=("stats_daily", "stats_active_users"))
    assert [r["date"] for r in records(first, "stats_daily")] == [iso_ms(d) for d in sorted(days)]
    (active,) = records(first, "stats_active_users")
    assert active["active_users"] == 42 and len(active["date"]) == 10
    tenant.requests.clear()
    run(requests_mock, tenant, state=last_state(first), streams=("stats_daily",))
    (asked,) = [r for r in tenant.requests if "/stats/daily" in r]
    assert f"from={(T0 - timedelta(days=1 + 3)).strftime('%Y%m%d')}" in asked


def test_nothing_new_is_one_empty_page_then_stop(requests_mock):
    tenant = Tenant(logs=events(1, 100))
    first = run(requests_mock, tenant)
    tenant.requests.clear()
    second = run(requests_mock, tenant, state=last_state(first))
    assert records(second, "logs") == []
    # The oldest-held search, then one checkpoint answered `[]` (its next link points back).
    assert [r.split(" ", 2)[2].split("&")[0] for r in tenant.requests] == [
        "per_page=100",
        f"from={log_id(100)}",
    ]
    assert last_state(second)["bookmarks"]["logs"]["replication_key_value"] == log_id(100)


def test_start_below_every_arrival_after_a_time():
    from tap_auth0.streams.logs import arrival_floor

    floor = arrival_floor(T0 + timedelta(seconds=10 * 7))
    assert len(floor) == 56 and log_id(6) < floor < log_id(7)


def test_ids_of_another_shape_start_at_the_earliest_arrival_of_the_oldest_page(requests_mock):
    tenant = Tenant(logs=[{**e, "log_id": f"{i:020d}"} for i, e in enumerate(events(1, 300), 1)])
    got = [r["log_id"] for r in records(run(requests_mock, tenant), "logs")]
    assert got == [e["log_id"] for e in tenant.logs]
