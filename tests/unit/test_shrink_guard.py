"""Guarded deletes: a full table's complete read far smaller than the last one keeps the
warehouse's rows (no ACTIVATE_VERSION, one WARNING, the stored count kept)."""

from __future__ import annotations

import io
import logging
from contextlib import redirect_stdout

import pytest

from tap_auth0.errors import ConfigError
from tap_auth0.settings import CONFIG_SCHEMA, parse_settings
from tap_auth0.shrink_guard import ROWS_KEY, SMALL_TABLE, may_activate
from tap_auth0.tap import TapAuth0
from tests.support.fake_search import FakeSearch, make_users
from tests.support.messages import last_state, records
from tests.support.mock_api import DOMAIN, mount_search, run_tap
from tests.support.mock_tenant import Tenant, mount_tenant
from tests.support.tap import catalog_selecting, run_inprocess

# Every run here is a full pass (the guard judges complete reads); change capture would
# make the later runs read only what the log names.
CONFIG = {"domain": DOMAIN, "access_token": "T", "change_capture": False}
RBAC = {"roles", "role_permissions", "role_members"}
PER_USER = {
    "user_permissions",
    "user_authentication_methods",
    "user_sessions",
    "user_refresh_tokens",
}
LOG = logging.getLogger("test-shrink-guard")


@pytest.mark.parametrize(
    ("old", "rows", "max_shrink", "activates"),
    [
        (None, 0, 0.5, True),  # first read: nothing to compare with
        (100, 50, 0.5, True),  # exactly the bound
        (100, 49, 0.5, False),
        (100, 250, 0.5, True),  # growth
        (100, 0, 1.0, True),  # 1 turns the guard off
        (100, 100, 0.0, True),  # 0: no shrink at all
        (100, 99, 0.0, False),
        (100, 98, 0.01, False),
        (SMALL_TABLE, 0, 0.5, True),  # small tables are not guarded
        (SMALL_TABLE + 1, 0, 0.5, False),
    ],
)
def test_rule(old, rows, max_shrink, activates, caplog):
    state = {} if old is None else {ROWS_KEY: old}
    with caplog.at_level(logging.WARNING, LOG.name):
        assert may_activate(state, "s", rows, max_shrink=max_shrink, logger=LOG) is activates
    # Activated: the new count is stored. Held back: the old one stays, so the next run is
    # guarded against the same baseline.
    assert state[ROWS_KEY] == (rows if activates else old)
    assert len(caplog.records) == (0 if activates else 1)


@pytest.mark.parametrize("stored", ["120", True, -5, 3.5, None])
def test_unusable_stored_count_is_replaced_not_trusted(stored):
    state = {ROWS_KEY: stored}
    assert may_activate(state, "s", 1, max_shrink=0.5, logger=LOG)
    assert state[ROWS_KEY] == 1


def rbac_tenant(n: int) -> Tenant:
    """n roles, each with one permission and one member."""
    roles = [{"id": f"rol_{i:04d}", "name": f"r{i}", "description": ""} for i in range(n)]
    t = Tenant(roles=roles)
    for role in roles:
        t.permissions[role["id"]] = [
            {
                "permission_name": "read:x",
                "description": "",
                "resource_server_name": "API",
                "resource_server_identifier": "https://api/",
            }
        ]
        t.role_users[role["id"]] = [
            {"user_id": f"auth0|{role['id']}", "email": "e", "name": "n", "picture": "p"}
        ]
    return t


def run_rbac(requests_mock, n: int, state: dict | None = None, **settings) -> list[dict]:
    mount_tenant(requests_mock, rbac_tenant(n))
    config = {**CONFIG, **settings}
    return run_inprocess(config, state=state, catalog=catalog_selecting(config, RBAC))


def activated(messages: list[dict]) -> set[str]:
    return {m["stream"] for m in messages if m["type"] == "ACTIVATE_VERSION"}


def counts(state: dict) -> dict[str, int]:
    return {name: b[ROWS_KEY] for name, b in state["bookmarks"].items() if ROWS_KEY in b}


def held_warnings(caplog) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and "ACTIVATE_VERSION held back" in r.getMessage()
    ]


def test_shrunk_full_tables_keep_the_warehouse_rows_until_allowed(requests_mock, caplog):
    first = run_rbac(requests_mock, 40)
    assert activated(first) == RBAC
    assert counts(last_state(first)) == dict.fromkeys(RBAC, 40)

    caplog.clear()
    second = run_rbac(requests_mock, 4, state=last_state(first))
    # The records still land (upserts); only the deletion of the other 36 is held back.
    assert len(records(second, "roles")) == 4
    assert activated(second) == set()
    warnings = held_warnings(caplog)
    assert len(warnings) == 3, warnings
    for name in RBAC:
        (line,) = [w for w in warnings if f"'{name}'" in w]
        assert "4 rows" in line and "had 40" in line and "max_table_shrink" in line
    # Not lowered: the next run is measured against 40 again.
    assert counts(last_state(second)) == dict.fromkeys(RBAC, 40)

    caplog.clear()
    third = run_rbac(requests_mock, 4, state=last_state(second))
    assert activated(third) == set()
    assert len(held_warnings(caplog)) == 3

    caplog.clear()
    allowed = run_rbac(requests_mock, 4, state=last_state(third), max_table_shrink=1)
    assert activated(allowed) == RBAC
    assert not held_warnings(caplog)
    assert counts(last_state(allowed)) == dict.fromkeys(RBAC, 4)


@pytest.mark.parametrize("n", [20, 60], ids=["shrink-within-bound", "growth"])
def test_reads_within_the_bound_activate_and_update_the_count(requests_mock, caplog, n):
    first = run_rbac(requests_mock, 40)
    caplog.clear()
    second = run_rbac(requests_mock, n, state=last_state(first))
    assert activated(second) == RBAC
    assert not held_warnings(caplog)
    assert counts(last_state(second)) == dict.fromkeys(RBAC, n)


def per_user_tenant(user_ids: list[str]) -> Tenant:
    t = Tenant()
    for uid in user_ids:
        t.user_permissions[uid] = [
            {
                "permission_name": "read:p",
                "resource_server_identifier": "https://api/",
                "resource_server_name": "API",
                "sources": [],
            }
        ]
        t.user_authenticators[uid] = [{"id": f"totp|{uid}", "type": "totp", "confirmed": True}]
        t.user_sessions[uid] = [{"id": f"s-{uid}", "user_id": uid}]
        t.user_tokens[uid] = [{"id": f"rt-{uid}", "user_id": uid, "rotating": False}]
    return t


def test_per_user_full_pass_is_guarded(requests_mock, caplog):
    """`sort: created_at:1` makes every run a full pass over users, so each per-user stream
    ends with ACTIVATE_VERSION: unless the pass shrank past the bound."""
    settings = {"access_token": "T", "sort": "created_at:1"}
    catalog = catalog_selecting({**CONFIG, **settings}, {"users"} | PER_USER)
    search = FakeSearch(make_users(100))
    mount_search(requests_mock, search)
    mount_tenant(requests_mock, per_user_tenant(sorted(search.users)))
    first = run_tap(settings, catalog=catalog)
    assert activated(first) == PER_USER
    assert counts(last_state(first)) == dict.fromkeys(PER_USER, 100)

    # A wrong filter, an incident: the listing returns 30 of the 100 users.
    for uid in sorted(search.users)[30:]:
        del search.users[uid]
    caplog.clear()
    second = run_tap(settings, state=last_state(first), catalog=catalog)
    assert len(records(second, "user_permissions")) == 30
    assert activated(second) == set()
    warnings = held_warnings(caplog)
    assert len(warnings) == len(PER_USER)
    assert all("30 rows" in w and "had 100" in w for w in warnings)
    assert counts(last_state(second)) == dict.fromkeys(PER_USER, 100)

    caplog.clear()
    allowed = run_tap(
        {**settings, "max_table_shrink": 1}, state=last_state(second), catalog=catalog
    )
    assert activated(allowed) == PER_USER
    assert counts(last_state(allowed)) == dict.fromkeys(PER_USER, 30)


@pytest.mark.parametrize("value", [-0.1, 1.5, "half"])
def test_max_table_shrink_outside_0_to_1_is_a_config_error(value):
    with pytest.raises(ConfigError, match="max_table_shrink"):
        parse_settings({**CONFIG, "max_table_shrink": value})


def test_the_setting_documents_the_floor_the_guard_uses():
    described = CONFIG_SCHEMA["properties"]["max_table_shrink"]
    assert f"Tables of {SMALL_TABLE} rows or fewer are not guarded" in described["description"]
    assert (described["minimum"], described["maximum"], described["default"]) == (0, 1, 0.5)


def test_held_back_streams_are_known_to_the_tap_after_the_run(requests_mock):
    """What a run summary reads: per stream, (rows read, rows of the last activated read)."""
    first = run_rbac(requests_mock, 40)
    mount_tenant(requests_mock, rbac_tenant(4))
    tap = TapAuth0(config=CONFIG, state=last_state(first), catalog=catalog_selecting(CONFIG, RBAC))
    with redirect_stdout(io.StringIO()):
        tap.sync_all()
    held = {s.name: s.held_back for s in tap.streams.values() if s.held_back}
    assert held == dict.fromkeys(RBAC, (4, 40))
