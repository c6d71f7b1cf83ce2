"""Scopes over real HTTP: `--test` lists them per stream and fails naming the missing ones;
a run whose token says its scopes fails before any record; a run whose token does not (an
opaque token) skips what it turns out it cannot read, once each, and finishes the rest."""

from __future__ import annotations

import pytest
from auth0_sandbox import Sandbox, SandboxConfig

from tests.support.cli import run_cli, stderr_lines
from tests.support.messages import parse, records
from tests.support.tap import catalog_selecting

GRANTED = "read:users read:roles read:organizations read:organization_members"
SKIPPED = ("organization_member_roles", "organization_connections", "organization_invitations")


@pytest.fixture(scope="module")
def sb():
    with Sandbox(
        SandboxConfig(
            users=120,
            seed=21,
            client_id="ID",
            client_secret="S",
            scopes=GRANTED,
            access_token="T",
            static_scopes=GRANTED,
        )
    ) as box:
        yield box


def config(sb: Sandbox) -> dict:
    return {"domain": sb.base_url, "tenant": "sandbox", "client_id": "ID", "client_secret": "S"}


def test_connection_test_lists_each_selected_stream_and_fails_naming_the_missing_scopes(sb):
    proc = run_cli(config(sb), "--test")
    assert proc.returncode == 3, proc.stderr[-800:]
    lines = stderr_lines(proc.stderr)
    assert any(line.startswith("  roles: scope ok (read:roles);") for line in lines)
    assert any(
        line.startswith("  organization_members: scope ok (read:organization_members);")
        for line in lines
    )
    for name in SKIPPED:
        assert any(line.startswith(f"  {name}: scope MISSING read:") for line in lines), name
        assert f"{name} (needs read:" in lines[-1], name
    assert lines[-1].startswith("tap-auth0: error: The token cannot read")


def test_a_run_skips_refused_streams_once_each_and_finishes_the_rest(sb):
    """An opaque token's scopes are learnt stream by stream (403 insufficient_scope)."""
    proc = run_cli({"domain": sb.base_url, "tenant": "sandbox", "access_token": "T"})
    assert proc.returncode == 0, proc.stderr[-800:]
    messages = parse(proc.stdout)
    truth = sb.tenant_truth()
    assert len(records(messages, "users")) == 120
    assert len(records(messages, "roles")) == len(truth["roles"])
    members = sum(len(m) for m in truth["organization_members"].values())
    assert len(records(messages, "organization_members")) == members
    lines = stderr_lines(proc.stderr)
    for name in SKIPPED:
        assert sum(f"Stream '{name}' skipped" in line for line in lines) == 1, name
        assert not records(messages, name)
    summary = [line for line in lines if line.startswith("Skipped (scopes or plan):")]
    assert len(summary) == 1 and all(name in summary[0] for name in SKIPPED)
    activated = {m["stream"] for m in messages if m["type"] == "ACTIVATE_VERSION"}
    assert activated.isdisjoint(SKIPPED)
    assert {"roles", "organizations", "organization_members"} <= activated


def test_enterprise_only_streams_are_skipped_on_other_plans():
    with Sandbox(SandboxConfig(users=30, seed=22, access_token="T")) as box:
        box.configure(enterprise_features=False)
        cfg = {"domain": box.base_url, "tenant": "sandbox", "access_token": "T"}
        catalog = catalog_selecting(cfg, {"users", "user_sessions", "user_permissions"})
        proc = run_cli(cfg, catalog=catalog)
        truth = box.tenant_truth()["user_permissions"]
    assert proc.returncode == 0, proc.stderr[-800:]
    messages = parse(proc.stdout)
    lines = stderr_lines(proc.stderr)
    assert (
        sum(
            "Stream 'user_sessions' skipped: the tenant's plan does not include it" in x
            for x in lines
        )
        == 1
    )
    assert not records(messages, "user_sessions")
    assert len(records(messages, "user_permissions")) == sum(len(v) for v in truth.values())
    assert len(records(messages, "users")) == 30
