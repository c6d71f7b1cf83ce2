"""GET /api/v2/logs (checkpoint and search) and /logs/{id} over 25,000 seeded events,
compared with the recorded Auth0 answers."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from auth0_sandbox import Sandbox, SandboxConfig
from auth0_sandbox.logs import TYPE_WEIGHTS

from tests.support import sandbox_instances as support
from tests.support.logs_api import LINK, LOG_ID, logs_url, recorded_events, walk
from tests.support.recordings import gets, ruby

N = 25_000


@pytest.fixture(scope="module")
def big() -> Iterator[Sandbox]:
    cfg = SandboxConfig(users=400, seed=11, access_token=support.TOKEN, logs=N, log_days=7)
    with Sandbox(cfg) as sb:
        yield sb


@pytest.fixture(scope="module")
def truth(big: Sandbox) -> list[dict[str, Any]]:
    return big.logs_truth()


@pytest.fixture
def s() -> Iterator[requests.Session]:
    with support.api_session() as session:
        yield session


def _ms(iso: str) -> int:
    dt = datetime.strptime(iso, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    return round(dt.timestamp() * 1000)


def _id_ingest_ms(log_id: str) -> int:
    m = LOG_ID.match(log_id)
    assert m, log_id
    dt = datetime.strptime(m.group(1), "%Y%m%d%H%M%S").replace(tzinfo=timezone.utc)
    return round(dt.timestamp() * 1000) + int(m.group(2)) // 1000


# -- shapes -------------------------------------------------------------------------------------
def test_event_keys_and_types_as_recorded(truth: list[dict[str, Any]]) -> None:
    recorded = recorded_events()
    go_keys = set(recorded[0])  # the 2023 shape: every key present, null when not applicable
    kinds: dict[str, set[type]] = {}
    for e in recorded:
        for k, v in e.items():
            if v is not None:
                kinds.setdefault(k, set()).add(type(v))
    for e in truth:
        assert go_keys <= set(e), go_keys - set(e)
        assert e["_id"] == e["log_id"]
        for k, v in e.items():
            if v is not None and k in kinds and k != "scope":
                assert type(v) in kinds[k], (k, v, kinds[k])
    located = [e["location_info"] for e in truth if e["location_info"]]
    rec_loc = next(e["location_info"] for e in recorded if e.get("location_info"))
    assert located and all(set(loc) == set(rec_loc) for loc in located)
    assert all(isinstance(loc["latitude"], float) for loc in located)
    assert all(isinstance(loc["longitude"], float) for loc in located)
    assert isinstance(rec_loc["latitude"], float)


def test_log_ids_like_auth0s(truth: list[dict[str, Any]]) -> None:
    for e in recorded_events():
        assert LOG_ID.match(e["log_id"]), e["log_id"]
        assert _id_ingest_ms(e["log_id"]) >= _ms(e["date"])
    ids = [e["log_id"] for e in truth]
    assert ids == sorted(ids) and len(set(ids)) == N
    assert ids == sorted(ids, key=int)  # string order is numeric order
    for e in truth:
        assert isinstance(e["log_id"], str) and len(e["log_id"]) == 56
        assert _id_ingest_ms(e["log_id"]) >= _ms(e["date"])  # ingested at or after the event


def test_type_mix_scope_kinds_and_masked_passwords(truth: list[dict[str, Any]]) -> None:
    types = {e["type"] for e in truth}
    wanted = {t for t, _ in TYPE_WEIGHTS}
    assert wanted - types <= {"zz_passkey_future"}  # everything shows up in 25k events
    assert {"s", "ss", "f", "fp", "fu", "slo", "seacft", "seccft", "sertft", "sapi"} <= types
    assert {"fapi", "mgmt_api_read", "ssa", "fsa", "gd_auth_succeed", "limit_wc", "w"} <= types
    assert "zz_new_code" in types
    scopes = [e["scope"] for e in truth if "scope" in e]
    assert any(isinstance(x, str) for x in scopes) and any(isinstance(x, list) for x in scopes)
    signups = [e for e in truth if e["type"] == "ss"]
    assert all(e["details"]["body"]["password"] == "*****" for e in signups)
    assert any(e["organization_id"] for e in truth)
    assert any(e["organization_id"] is None for e in truth)
    assert any(e["isMobile"] for e in truth) and not all(e["isMobile"] for e in truth)


def test_events_reference_the_tenants_real_things(
    big: Sandbox, truth: list[dict[str, Any]]
) -> None:
    users = {u["user_id"] for u in big.truth()}
    tenant = big.tenant_truth()
    clients = {c["client_id"] for c in tenant["clients"]}
    conns = {c["id"]: c["name"] for c in tenant["connections"]}
    orgs = {o["id"] for o in tenant["organizations"]}
    for e in truth:
        assert e["user_id"] in users or e["user_id"] in ("", None)
        assert e["client_id"] in clients
        if e["connection_id"]:
            assert conns[e["connection_id"]] == e["connection"]
        if e["organization_id"]:
            assert e["organization_id"] in orgs


def test_late_arrivals_make_id_order_differ_from_date_order(truth: list[dict[str, Any]]) -> None:
    latest = ""
    late = 0
    for e in truth:
        if latest and _ms(latest) - _ms(e["date"]) > 60_000:
            late += 1  # dated over a minute before an event with a smaller id
        latest = max(latest, e["date"])
    assert 0.01 * N < late < 0.06 * N
    lags = [_id_ingest_ms(e["log_id"]) - _ms(e["date"]) for e in truth]
    assert sum(1 for lag in lags if lag >= 120_000) > 0.01 * N


# -- checkpoint ---------------------------------------------------------------------------------
def test_checkpoint_walk_25k_no_duplicates_nothing_missed(
    big: Sandbox, truth: list[dict[str, Any]], s: requests.Session
) -> None:
    t0 = time.monotonic()
    got, last, empty = walk(s, big)
    assert time.monotonic() - t0 < 10
    ids = [e["log_id"] for e in got]
    assert len(ids) == N == len(set(ids))
    assert ids == [e["log_id"] for e in truth]
    assert got == truth
    assert last == truth[-1]["log_id"]
    assert empty.json() == []
    assert empty.headers["Link"] == f'<{logs_url(big)}?from={last}&take=100>; rel="next"'


def test_link_header_like_the_recording(big: Sandbox, s: requests.Session) -> None:
    _, _, headers, body = ruby("Logs__logs__from_should_take_one_log_entry.yml")[1]
    m = LINK.match(headers["Link"])
    assert m, headers["Link"]
    rec = urlsplit(m.group("url"))
    assert rec.path == "/api/v2/logs"
    assert parse_qsl(rec.query) == [("from", body[-1]["log_id"]), ("take", "1")]

    first = big.logs.ids[0]
    r = s.get(logs_url(big), params={"from": first, "take": 3})
    page = r.json()
    assert isinstance(page, list) and len(page) == 3
    assert [e["log_id"] for e in page] == big.logs.ids[1:4]
    m = LINK.match(r.headers["Link"])
    assert m, r.headers["Link"]
    ours = urlsplit(m.group("url"))
    assert f"{ours.scheme}://{ours.netloc}" == big.base_url and ours.path == "/api/v2/logs"
    assert parse_qsl(ours.query) == [("from", page[-1]["log_id"]), ("take", "3")]


def test_empty_page_links_to_the_request_itself(big: Sandbox, s: requests.Session) -> None:
    last = big.logs.ids[-1]
    url = f"{logs_url(big)}?from={last}&take=7"
    r = s.get(url)
    assert r.status_code == 200 and r.json() == []
    assert r.headers["Link"] == f'<{url}>; rel="next"'


def test_checkpoint_ignores_search_parameters(big: Sandbox, s: requests.Session) -> None:
    first = big.logs.ids[0]
    plain = s.get(logs_url(big), params={"from": first, "take": 5}).json()
    noisy = s.get(
        logs_url(big),
        params={
            "from": first,
            "take": 5,
            "q": "type:zz_none",
            "sort": "date:-1",
            "page": 3,
            "per_page": 2,
            "include_totals": "true",
            "fields": "date",
        },
    ).json()
    assert noisy == plain
    default_take = s.get(logs_url(big), params={"from": first}).json()
    assert len(default_take) == 50


def test_take_without_from_is_the_newest_ascending(big: Sandbox, s: requests.Session) -> None:
    r = s.get(logs_url(big), params={"take": 4})
    assert [e["log_id"] for e in r.json()] == big.logs.ids[-4:]
    assert r.headers["Link"] == f'<{logs_url(big)}?from={big.logs.ids[-1]}&take=4>; rel="next"'


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"from": "1", "take": 101}, "'Value 101 is greater than maximum 100' on property take"),
        ({"from": "1", "take": 0}, "'Value 0 is less than minimum 1' on property take"),
        ({"from": "1", "take": "x"}, "'Expected type integer but found type string'"),
        ({"from": "9002abc", "take": 5}, "'String does not match pattern ^\\d+$' on property from"),
        ({"per_page": 101}, "'Value 101 is greater than maximum 100' on property per_page"),
    ],
)
def test_checkpoint_validation(
    big: Sandbox, s: requests.Session, params: dict[str, Any], fragment: str
) -> None:
    r = s.get(logs_url(big), params=params)
    assert r.status_code == 400
    body = r.json()
    assert body["errorCode"] == "invalid_query_string"
    assert body["message"].startswith("Query validation error: ") and fragment in body["message"]


# -- search ---------------------------------------------------------------------------------------
def _search(s: requests.Session, sb: Sandbox, **params: Any) -> Any:
    r = s.get(logs_url(sb), params=params)
    assert r.status_code == 200, r.text
    return r.json()


def test_default_search_is_newest_first_like_the_recordings(
    big: Sandbox, s: requests.Session
) -> None:
    rec = ruby("Logs__logs__from_should_take_one_log_entry.yml")[0][3]
    assert [e["log_id"] for e in rec] == sorted((e["log_id"] for e in rec), reverse=True)
    page = _search(s, big)
    assert len(page) == 50  # default per_page
    assert [e["log_id"] for e in page] == big.logs.ids[::-1][:50]
    page1 = _search(s, big, page=1, per_page=10)
    assert [e["log_id"] for e in page1] == big.logs.ids[::-1][10:20]


def test_search_date_range_type_and_totals(
    big: Sandbox, truth: list[dict[str, Any]], s: requests.Session
) -> None:
    day = sorted({e["date"][:10] for e in truth})[2]
    q = f"type:s AND date:[{day} TO {day}]"
    got = _search(s, big, q=q, include_totals="true", per_page=100, sort="date:1")
    expected = sorted(
        (e for e in truth if e["type"] == "s" and e["date"][:10] == day),
        key=lambda e: (e["date"], e["log_id"]),
    )
    assert list(got) == ["start", "limit", "length", "total", "logs"]
    assert got["total"] == len(expected) > 100
    assert (got["start"], got["limit"], got["length"]) == (0, 100, 100)
    assert got["logs"] == expected[:100]
    # open-ended range with a time, quoted type, descending
    since = f"{day}T12:00:00.000Z"
    got = _search(s, big, q=f'date:[{since} TO *] AND type:"ss"', sort="date:-1", per_page=20)
    want = sorted(
        (e for e in truth if e["type"] == "ss" and e["date"] >= since),
        key=lambda e: (e["date"], e["log_id"]),
        reverse=True,
    )
    assert got == want[:20]


def test_search_user_id_or_and_fields(
    big: Sandbox, truth: list[dict[str, Any]], s: requests.Session
) -> None:
    uid = next(e["user_id"] for e in truth if e["type"] == "s")
    got = _search(s, big, q=f'user_id:"{uid}" AND (type:s OR type:ss)', per_page=100)
    want = [e for e in reversed(truth) if e["user_id"] == uid and e["type"] in ("s", "ss")]
    assert got == want[:100] and got
    rare = _search(s, big, q="type:zz_new_code OR type:limit_wc", fields="type,log_id")
    assert rare and all(set(e) == {"type", "log_id"} for e in rare)
    assert {e["type"] for e in rare} <= {"zz_new_code", "limit_wc"}
    excl = _search(s, big, per_page=3, fields="details", include_fields="false")
    assert all("details" not in e and "log_id" in e for e in excl)
    nested = _search(s, big, q="location_info.country_code:JP", per_page=5)
    assert nested and all(e["location_info"]["country_code"] == "JP" for e in nested)


def test_search_result_cap(big: Sandbox, s: requests.Session) -> None:
    assert len(_search(s, big, page=9, per_page=100)) == 100
    r = s.get(logs_url(big), params={"page": 10, "per_page": 100})
    assert r.status_code == 400
    body = r.json()
    assert body["errorCode"] == "invalid_paging"
    assert body["message"].startswith("You can only page through the first 1000 records.")
    assert s.get(logs_url(big), params={"page": 20, "per_page": 50}).status_code == 400
    bad = s.get(logs_url(big), params={"q": "date:[2020 TO"})
    assert bad.status_code == 400 and bad.json()["errorCode"] == "invalid_query_string"
    assert s.get(logs_url(big), params={"sort": "date"}).status_code == 400


def test_get_one_log(big: Sandbox, truth: list[dict[str, Any]], s: requests.Session) -> None:
    e = truth[1234]
    r = s.get(f"{logs_url(big)}/{e['log_id']}")
    assert r.status_code == 200 and r.json() == e
    rec_url, _, rec = next(g for g in gets("TestLogManager_Search") if "/logs/" in g[0])
    assert rec["log_id"] == rec_url.rsplit("/", 1)[1]
    r = s.get(f"{logs_url(big)}/{'9' * 56}")
    assert r.status_code == 404
    assert r.json() == {
        "statusCode": 404,
        "error": "Not Found",
        "message": "The log does not exist.",
        "errorCode": "inexistent_log",
    }


def test_logs_need_read_logs(big: Sandbox) -> None:
    tok = big.tokens.mint("read:users", 60)
    with support.api_session(tok) as s:
        r = s.get(logs_url(big))
        assert r.status_code == 403
        assert (
            r.json()["message"] == "Insufficient scope, expected any of: read:logs,read:logs_users"
        )
        assert s.get(f"{big.base_url}/api/v2/stats/daily").status_code == 403
    tok = big.tokens.mint("read:logs_users", 60)
    with support.api_session(tok) as s:
        assert s.get(logs_url(big), params={"take": 1}).status_code == 200


def test_same_seed_same_events() -> None:
    kw = {"users": 50, "seed": 3, "logs": 500, "log_days": 3}
    a, b = Sandbox(SandboxConfig(**kw)), Sandbox(SandboxConfig(**kw))
    assert a.logs.truth() == b.logs.truth()
    c = Sandbox(SandboxConfig(**{**kw, "seed": 4}))
    assert c.logs.ids != a.logs.ids
