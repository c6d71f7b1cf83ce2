"""Opt-in per-user streams: off by default; read through the users fan-out for exactly the
users a run emits; whole tables (ACTIVATE_VERSION) only after a full pass of users."""

from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import unquote

import yaml

from tap_auth0.tap import TapAuth0
from tap_auth0.values import iso_ms
from tests.support.fake_search import FakeSearch, make_users
from tests.support.messages import last_state, records
from tests.support.mock_api import DOMAIN, mount_search, run_tap
from tests.support.mock_tenant import Tenant, mount_tenant
from tests.support.paths import ROOT
from tests.support.tap import catalog_selecting

TOKEN = {"access_token": "T"}
PER_USER = {
    "user_permissions",
    "user_authentication_methods",
    "user_sessions",
    "user_refresh_tokens",
}


def tenant_for(users: dict[str, dict]) -> Tenant:
    t = Tenant()
    for i, uid in enumerate(sorted(users)):
        t.user_permissions[uid] = [
            {
                "permission_name": f"read:p{j}",
                "resource_server_identifier": "https://api/",
                "resource_server_name": "API",
                "sources": [{"source_id": "", "source_name": "", "source_type": "DIRECT"}],
            }
            for j in range(i % 3)
        ]
        # Most users have no MFA: Auth0 then answers without `total`.
        t.user_authenticators[uid] = (
            [{"id": f"totp|dev_{i}", "type": "totp", "confirmed": True}] if i % 4 == 0 else []
        )
        t.user_sessions[uid] = [{"id": f"s{i}", "user_id": uid}] if i % 5 == 0 else []
        t.user_tokens[uid] = (
            [{"id": f"rt{i}", "user_id": uid, "rotating": False}] if i % 7 == 0 else []
        )
    return t


def test_per_user_streams_and_user_detail_are_not_selected_by_default():
    """Each costs a request per user; `user_detail` (Get a User) too."""
    catalog = TapAuth0(config={"domain": DOMAIN, **TOKEN}).catalog_dict
    selected = {
        e["tap_stream_id"]: next(m for m in e["metadata"] if m["breadcrumb"] == [])["metadata"].get(
            "selected-by-default"
        )
        for e in catalog["streams"]
    }
    assert {name for name, on in selected.items() if on is False} == PER_USER | {"user_detail"}


def test_the_projects_select_leaves_out_exactly_the_opt_in_streams():
    """Meltano's `*.*` would take them anyway: meltano.yml must name each one."""
    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    (tap,) = (p for p in project["plugins"]["extractors"] if p["name"] == "tap-auth0")
    assert tap["select"][0] == "*.*"
    assert set(tap["select"][1:]) == {f"!{name}.*" for name in PER_USER | {"user_detail"}}


def test_full_pass_reads_every_user_and_activates_then_incremental_reads_only_changed(
    requests_mock,
):
    search = FakeSearch(make_users(240))
    mount_search(requests_mock, search)
    t = mount_tenant(requests_mock, tenant_for(search.users))
    config = {"domain": DOMAIN, **TOKEN}
    catalog = catalog_selecting(config, {"users"} | PER_USER)
    first = run_tap(TOKEN, catalog=catalog)
    assert len(records(first, "users")) == 240
    expected = {
        "user_permissions": sum(len(v) for v in t.user_permissions.values()),
        "user_authentication_methods": sum(len(v) for v in t.user_authenticators.values()),
        "user_sessions": sum(len(v) for v in t.user_sessions.values()),
        "user_refresh_tokens": sum(len(v) for v in t.user_tokens.values()),
    }
    for name, count in expected.items():
        got = records(first, name)
        assert len(got) == count, name
        assert all(r["user_id"] in search.users for r in got), name
    perms = records(first, "user_permissions")
    assert len(
        {(p["user_id"], p["resource_server_identifier"], p["permission_name"]) for p in perms}
    ) == len(perms)
    activated = {m["stream"] for m in first if m["type"] == "ACTIVATE_VERSION"}
    assert activated == PER_USER

    changed = sorted(search.users)[:3]
    for uid in changed:
        search.users[uid]["updated_at"] = iso_ms(datetime.now(timezone.utc))
    t.requests.clear()
    second = run_tap(TOKEN, state=last_state(first), catalog=catalog)
    assert {u["user_id"] for u in records(second, "users")} == set(changed)
    per_user = [r for r in t.requests if "/api/v2/users/" in r]
    asked_for = {unquote(r.split(" ")[1]).split("/")[4] for r in per_user}
    assert asked_for == set(changed)
    assert len(per_user) == 4 * 3, "one request per per-user stream per changed user"
    assert len(t.requests) == len(per_user) + 2, "and the log since the last run: 2"
    assert not [m for m in second if m["type"] == "ACTIVATE_VERSION"], (
        "an incremental read is partial"
    )
