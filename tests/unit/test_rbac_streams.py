"""roles, role_permissions, role_members against a requests-mock tenant."""

from __future__ import annotations

import pytest

from tests.support.mock_tenant import Tenant, mount_tenant
from tests.support.tap import catalog_selecting, run_inprocess

CONFIG = {"domain": "https://acme.us.auth0.com", "access_token": "T"}
RBAC = {"roles", "role_permissions", "role_members"}


def tenant_with_roles(n_roles: int = 3, big: int = 1500) -> Tenant:
    roles = [
        {"id": f"rol_{i:016d}", "name": f"role-{i}", "description": "d"} for i in range(n_roles)
    ]
    t = Tenant(roles=roles)
    for i, role in enumerate(roles):
        t.permissions[role["id"]] = [
            {
                "permission_name": f"read:thing{j}",
                "description": "",
                "resource_server_name": "API",
                "resource_server_identifier": "https://api.example.com/",
            }
            for j in range(i + 1)
        ]
        count = big if i == 0 else i
        t.role_users[role["id"]] = [
            {"user_id": f"auth0|{j}", "email": f"u{j}@x.com", "name": "n", "picture": "p"}
            for j in range(count)
        ]
    return t


def run(requests_mock, tenant: Tenant, streams=RBAC):
    mount_tenant(requests_mock, tenant)
    return run_inprocess(CONFIG, catalog=catalog_selecting(CONFIG, set(streams)))


def rows(messages, stream):
    return [m["record"] for m in messages if m["type"] == "RECORD" and m["stream"] == stream]


def test_every_role_permission_and_member_once_with_keys_unique(requests_mock):
    tenant = tenant_with_roles()
    messages = run(requests_mock, tenant)
    assert [r["id"] for r in rows(messages, "roles")] == [r["id"] for r in tenant.roles]
    perms = rows(messages, "role_permissions")
    assert len(perms) == 1 + 2 + 3
    keys = {(p["role_id"], p["resource_server_identifier"], p["permission_name"]) for p in perms}
    assert len(keys) == len(perms)
    members = rows(messages, "role_members")
    assert len(members) == 1500 + 1 + 2
    assert len({(m["role_id"], m["user_id"]) for m in members}) == len(members)
    big = tenant.roles[0]["id"]
    assert sum(m["role_id"] == big for m in members) == 1500


def test_membership_is_read_per_role_by_checkpoint(requests_mock):
    tenant = tenant_with_roles()
    run(requests_mock, tenant)
    user_requests = [r for r in tenant.requests if r.startswith("/roles/([^/]+)/users")]
    # 1,500 users: 15 pages of 100, plus the empty page a trailing `next` leads to; the
    # two small roles one page each. No page/per_page: checkpoint only.
    assert len(user_requests) == 16 + 1 + 1
    assert all("take=100" in r and "page=" not in r for r in user_requests)


def test_full_tables_end_with_activate_version_after_their_records(requests_mock):
    messages = run(requests_mock, tenant_with_roles(big=5))
    for stream in RBAC:
        kinds = [m["type"] for m in messages if m.get("stream") == stream]
        assert kinds[-1] == "ACTIVATE_VERSION", stream
        assert "ACTIVATE_VERSION" not in kinds[:-1], stream
        (activate,) = [
            m for m in messages if m["type"] == "ACTIVATE_VERSION" and m["stream"] == stream
        ]
        versions = {
            m["version"] for m in messages if m["type"] == "RECORD" and m["stream"] == stream
        }
        assert versions == {activate["version"]}, stream


def test_a_tenant_without_roles_gives_empty_tables(requests_mock):
    messages = run(requests_mock, Tenant())
    assert not [m for m in messages if m["type"] == "RECORD"]
    # Complete reads of empty tables: loaders that honour ACTIVATE_VERSION empty them too.
    assert {m["stream"] for m in messages if m["type"] == "ACTIVATE_VERSION"} == RBAC


def test_missing_scope_skips_the_streams_with_one_warning_and_others_go_on(requests_mock, caplog):
    tenant = tenant_with_roles(big=3)
    tenant.refused = {"read:roles"}
    mount_tenant(requests_mock, tenant)
    tenant.organizations = [{"id": "org_1", "name": "one"}]
    streams = RBAC | {"organizations"}
    messages = run_inprocess(CONFIG, catalog=catalog_selecting(CONFIG, streams))
    assert [r["id"] for r in rows(messages, "organizations")] == ["org_1"]
    assert not rows(messages, "roles") and not rows(messages, "role_members")
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert sum("Stream 'roles' skipped: the token lacks read:roles" in w for w in warnings) == 1
    assert any(w.startswith("Skipped (scopes or plan): roles (needs read:roles)") for w in warnings)
    # No ACTIVATE_VERSION for a table that could not be read: it would empty it.
    assert not [m for m in messages if m["type"] == "ACTIVATE_VERSION" and m["stream"] in RBAC]


def test_every_selected_stream_refused_is_a_failed_run(requests_mock):
    from tap_auth0.errors import ScopeError

    tenant = tenant_with_roles(big=3)
    tenant.refused = {"read:roles"}
    with pytest.raises(ScopeError, match="grant the application the read:roles scope"):
        run(requests_mock, tenant)
