"""The users and user_detail streams end to end in-process, HTTP mocked."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta, timezone

import pytest

from tap_auth0.errors import ConfigError
from tap_auth0.tap import TapAuth0
from tap_auth0.values import iso_ms
from tests.support.fake_search import FakeSearch, make_users
from tests.support.messages import last_state, record_ids, records
from tests.support.mock_api import API, mount_search, run_tap
from tests.support.tap import catalog_selecting

TOKEN = {"access_token": "tok"}


def users_only_catalog(config):
    return catalog_selecting({"domain": "acme.us.auth0.com", **config}, {"users"})


@pytest.fixture
def search(requests_mock):
    s = FakeSearch(make_users(1234, tie=150))
    mount_search(requests_mock, s)
    return s


def test_full_run_emits_every_user_and_detail_once(search, requests_mock):
    msgs = run_tap(TOKEN)
    users = records(msgs, "users")
    details = records(msgs, "user_detail")
    assert len(users) == 1234 == len({u["user_id"] for u in users})
    assert sorted(u["user_id"] for u in details) == sorted(u["user_id"] for u in users)
    schema_msgs = [m for m in msgs if m["type"] == "SCHEMA"]
    assert [m["stream"] for m in schema_msgs].count("user_detail") == 1
    state = last_state(msgs)
    # A complete scan moves the bookmark to the window's end (the run's start), so the
    # next run's look-back starts there rather than before the newest user.
    bookmark = state["bookmarks"]["users"]["replication_key_value"]
    assert bookmark >= max(u["updated_at"] for u in users)
    started = datetime.fromisoformat(bookmark.replace("Z", "+00:00"))
    assert abs((datetime.now(timezone.utc) - started).total_seconds()) < 60
    assert "partitions" not in state["bookmarks"].get("user_detail", {})
    assert len(json.dumps(state)) < 2048
    q = requests_mock.request_history[0].qs
    assert q["search_engine"] == ["v3"] and q["page"] == ["0"] and q["per_page"] == ["100"]
    assert q["sort"] == ["updated_at:1"] and q["include_totals"] == ["true"]


def _defaults_but_only_users_streams(config: dict) -> dict:
    """The discovered catalog with its own default selection for `users` and `user_detail`
    (no `selected` key: the tap's `selected-by-default` decides), every other stream off."""
    catalog = TapAuth0(config={"domain": "acme.us.auth0.com", **config}).catalog_dict
    for entry in catalog["streams"]:
        root = next(m for m in entry["metadata"] if m["breadcrumb"] == [])["metadata"]
        root.pop("selected", None)
        if entry["tap_stream_id"] not in ("users", "user_detail"):
            root["selected"] = False
    return catalog


def test_user_detail_is_opt_in_unless_user_ids_ask_for_it(search, requests_mock):
    """A default run lists users without a Get a User per user; `user_ids` selects it."""
    msgs = run_tap(TOKEN, catalog=_defaults_but_only_users_streams(TOKEN))
    assert len(records(msgs, "users")) == 1234
    assert records(msgs, "user_detail") == []
    assert not any("/api/v2/users/" in r.url for r in requests_mock.request_history)
    ids = sorted(search.users)[:2]
    config = {**TOKEN, "user_ids": ids}
    by_id = run_tap(config, catalog=_defaults_but_only_users_streams(config))
    assert sorted(r["user_id"] for r in records(by_id, "user_detail")) == ids


def test_incremental_run_starts_at_bookmark_minus_lookback(search, requests_mock):
    first = run_tap(TOKEN, catalog=users_only_catalog(TOKEN))
    state = last_state(first)
    bookmark = state["bookmarks"]["users"]["replication_key_value"]
    # Change two users after the first run; one is not searchable yet (index lag) and
    # carries an updated_at just before the bookmark.
    changed = sorted(search.users)[:2]
    now = datetime.now(timezone.utc) - timedelta(seconds=1)
    search.users[changed[0]]["updated_at"] = iso_ms(now)
    lagged = datetime.fromisoformat(bookmark.replace("Z", "+00:00")) - timedelta(seconds=200)
    search.users[changed[1]]["updated_at"] = iso_ms(lagged)
    requests_mock.reset_mock()
    second = run_tap(TOKEN, state=state, catalog=users_only_catalog(TOKEN))
    got = {u["user_id"] for u in records(second, "users")}
    assert changed[0] in got
    assert changed[1] in got, "a change searchable only after the bookmark passed it"
    listing = [r for r in requests_mock.request_history if r.path == "/api/v2/users"]
    first_q = listing[0].qs["q"][0]
    assert first_q.startswith("updated_at:[")
    # 300 s before the bookmark
    assert bookmark[:10] in first_q
    assert len(got) < 50, "only the changed user and the look-back window"


def test_start_date_limits_first_run(search):
    msgs = run_tap(
        {**TOKEN, "start_date": "2024-11-01T00:00:00Z"}, catalog=users_only_catalog(TOKEN)
    )
    users = records(msgs, "users")
    assert users and all(u["updated_at"] >= "2024-11-01T00:00:00.000Z" for u in users)
    expected = [u for u in search.users.values() if u["updated_at"] >= "2024-11-01T00:00:00.000Z"]
    assert len(users) == len(expected)


def test_connection_and_search_query_and_fields_params(search, requests_mock):
    config = {
        **TOKEN,
        "connection": "google-oauth2",
        "search_query": 'email:*@acme.com OR name:"Ann"',
        "fields": "email,name",
    }
    run_tap(config, catalog=users_only_catalog(config))
    qs = requests_mock.request_history[0].qs
    q = qs["q"][0]
    assert q.startswith(
        '((email:*@acme.com OR name:"Ann") AND (identities.connection:"google-oauth2")) AND '
    )
    assert "connection" not in qs, "v3 ignores ?connection=, the tap filters in q"
    assert qs["fields"] == ["user_id,updated_at,created_at,email,name"]
    assert qs["include_fields"] == ["true"]


def test_exclude_fields_never_excludes_keys(search, requests_mock):
    config = {**TOKEN, "fields": "user_id,identities,updated_at", "include_fields": False}
    run_tap(config, catalog=users_only_catalog(config))
    qs = requests_mock.request_history[0].qs
    assert qs["fields"] == ["identities"] and qs["include_fields"] == ["false"]


def test_rejected_search_query_names_setting_and_query(requests_mock):
    requests_mock.get(
        f"{API}/users",
        status_code=400,
        json={
            "statusCode": 400,
            "error": "Bad Request",
            "message": "Query validation error: 'bad syntax'",
            "errorCode": "invalid_query_string",
        },
    )
    with pytest.raises(ConfigError) as info:
        run_tap({**TOKEN, "search_query": "email:(("})
    text = str(info.value)
    assert "'search_query' was rejected by Auth0" in text
    assert "Query validation error" in text and "email:((" in text


def test_user_deleted_between_listing_and_detail_is_a_warning(search, requests_mock, caplog):
    gone = sorted(search.users)[5]

    # Deleted right after a listing page returned it: listed, then 404 on detail.
    original = search.fetch

    def fetch(q, sort, totals):
        page, total = original(q, sort, totals)
        if any(u["user_id"] == gone for u in page):
            search.users.pop(gone, None)
        return page, total

    search.fetch = fetch
    with caplog.at_level(logging.WARNING):
        msgs = run_tap(TOKEN)
    assert gone in {u["user_id"] for u in records(msgs, "users")}
    assert gone not in {u["user_id"] for u in records(msgs, "user_detail")}
    assert any(gone in r.getMessage() and "404" in r.getMessage() for r in caplog.records)


def test_user_ids_fetch_directly_without_listing(search, requests_mock, caplog):
    ids = sorted(search.users)[:3] + ["auth0|does-not-exist"]
    config = {**TOKEN, "user_ids": ids, "user_detail_fields": "email"}
    catalog = catalog_selecting({"domain": "acme.us.auth0.com", **config}, {"user_detail"})
    with caplog.at_level(logging.WARNING):
        msgs = run_tap(config, catalog=catalog)
    assert [r["user_id"] for r in records(msgs, "user_detail")] == ids[:3]
    assert not any("/api/v2/users?" in r.url for r in requests_mock.request_history)
    detail_req = requests_mock.request_history[0]
    assert detail_req.qs["fields"] == ["user_id,email"]
    assert any("auth0|does-not-exist" in r.getMessage() for r in caplog.records)


def test_idp_tokens_dropped_by_default_and_kept_on_request(requests_mock):
    user = {
        "user_id": "github|1",
        "updated_at": "2024-01-01T00:00:00.000Z",
        "created_at": "2024-01-01T00:00:00.000Z",
        "identities": [
            {"provider": "github", "user_id": 1, "access_token": "gho_x", "refresh_token": "r"}
        ],
    }
    mount_search(requests_mock, FakeSearch([user]))
    msgs = run_tap(TOKEN)
    for stream in ("users", "user_detail"):
        ident = records(msgs, stream)[0]["identities"][0]
        assert "access_token" not in ident and "refresh_token" not in ident
        assert ident["user_id"] == 1
    kept = run_tap({**TOKEN, "include_idp_tokens": True})
    assert records(kept, "users")[0]["identities"][0]["access_token"] == "gho_x"


def test_created_at_sort_is_a_full_refresh(search, requests_mock):
    config = {**TOKEN, "sort": "created_at:1"}
    msgs = run_tap(config, catalog=users_only_catalog(config))
    assert len(records(msgs, "users")) == 1234
    assert requests_mock.request_history[0].qs["sort"] == ["created_at:1"]
    assert "replication_key_value" not in json.dumps(last_state(msgs)["bookmarks"]["users"])


def state_holds(book: dict, value: str, user_id: str) -> bool:
    """Whether a users STATE says this user was written: below the bookmark, in a range
    `listed_above` ((low, high] read whole; [v, v]: all at v), or in `window_positions`
    ((low, position) read, and at `position` the user_ids up to the third element)."""
    if value < book["replication_key_value"]:
        return True
    if any(a < value <= b or a == b == value for a, b in book.get("listed_above", [])):
        return True
    for low, position, *after in book.get("window_positions", []):
        if low < value < position or (after and value == position and user_id <= after[0]):
            return True
    return False


WINDOWS, PAGE = 4, 100


@pytest.mark.parametrize("detail", [False, True], ids=["users", "users+user_detail"])
def test_every_state_of_a_windowed_run_is_safe_to_resume_from(requests_mock, monkeypatch, detail):
    """Concurrent windows: at every STATE, each user the STATE counts as read (below the
    bookmark, in a range read above it, before a window's position) was already written,
    with its detail when that is selected. Resuming from a STATE loses no user, and reads
    again at most about a page per window (the boundary users at each position): a window
    the interruption caught mid-way is not read again from its start."""
    from tap_auth0.streams.users.stream import UsersStream

    monkeypatch.setattr(UsersStream, "STATE_MSG_FREQUENCY", 100)
    search = FakeSearch(make_users(3000, tie=300))
    mount_search(requests_mock, search)
    config = {**TOKEN, "users_list_windows": WINDOWS, "users_list_min_window": 100}
    streams = {"users", "user_detail"} if detail else {"users"}
    catalog = catalog_selecting({"domain": "acme.us.auth0.com", **config}, streams)
    msgs = run_tap(config, catalog=catalog)
    truth = {uid: u["updated_at"] for uid, u in search.users.items()}
    users: set[str] = set()
    details: set[str] = set()
    states = []
    for m in msgs:
        if m["type"] == "RECORD":
            (users if m["stream"] == "users" else details).add(m["record"]["user_id"])
        elif m["type"] == "STATE":
            assert len(json.dumps(m["value"])) < 2048
            book = m["value"].get("bookmarks", {}).get("users", {})
            if "replication_key_value" not in book:
                continue
            covered = {uid for uid, v in truth.items() if state_holds(book, v, uid)}
            assert covered <= users, f"{len(covered - users)} users below the STATE unwritten"
            if detail:
                assert covered <= details, "a user's detail missing below the STATE"
            states.append((m["value"], set(users), set(details)))
    assert users == set(truth)
    assert len(states) >= 10
    assert any("window_positions" in s[0]["bookmarks"]["users"] for s in states)
    # Resume from a few STATEs, as a run killed right after writing each would.
    for state, written, written_details in states[len(states) // 4 :: len(states) // 4]:
        resumed = run_tap(config, state=state, catalog=catalog)
        again = record_ids(resumed, "users")
        assert written | again == set(truth), "a user lost by the resume"
        if detail:
            assert written_details | record_ids(resumed, "user_detail") == set(truth)
        reread = len(again & written)
        assert reread <= WINDOWS * PAGE + PAGE, f"{reread} users read again on resume"


def test_a_state_written_before_window_positions_still_resumes(search, requests_mock):
    """An older STATE: a bookmark and `listed_above` only. The ranges are skipped, the
    rest above the bookmark is read, and the next STATE is in the current form."""
    values = sorted(u["updated_at"] for u in search.users.values())
    book = {
        "replication_key": "updated_at",
        "replication_key_value": values[100],
        "listed_above": [[values[500], values[900]]],
    }
    config = {**TOKEN, "lookback_seconds": 0, "users_list_windows": 4}
    msgs = run_tap(config, state={"bookmarks": {"users": book}}, catalog=users_only_catalog(config))
    got = sorted(u["user_id"] for u in records(msgs, "users"))
    expected = [
        uid
        for uid, u in search.users.items()
        if u["updated_at"] >= values[100] and not values[500] < u["updated_at"] <= values[900]
    ]
    assert got == sorted(expected)
    final = last_state(msgs)["bookmarks"]["users"]
    assert "listed_above" not in final and "window_positions" not in final
