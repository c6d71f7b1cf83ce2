"""A tenant with no roles, organizations, applications or connections of its own: every
table is empty, not an error, and still ends with ACTIVATE_VERSION (it was read whole)."""

from __future__ import annotations

from auth0_sandbox import Sandbox, SandboxConfig

from tests.support.cli import run_cli
from tests.support.messages import parse, records


def test_no_roles_and_no_organizations_give_empty_tables():
    with Sandbox(SandboxConfig(users=40, seed=3, access_token="T", roles=0, organizations=0)) as sb:
        proc = run_cli({"domain": sb.base_url, "tenant": "sandbox", "access_token": "T"})
    assert proc.returncode == 0, proc.stderr[-800:]
    messages = parse(proc.stdout)
    assert len(records(messages, "users")) == 40
    empty = (
        "roles",
        "role_permissions",
        "role_members",
        "organizations",
        "organization_members",
        "organization_member_roles",
        "organization_connections",
        "organization_invitations",
    )
    activated = {m["stream"] for m in messages if m["type"] == "ACTIVATE_VERSION"}
    for name in empty:
        assert records(messages, name) == [], name
        assert name in activated, name
    # On Python 3.10 the SDK warns once that the interpreter is past its end of life: not
    # something an empty tenant caused.
    warnings = [
        line
        for line in proc.stderr.splitlines()
        if "WARNING" in line and "SingerSDKPythonEOLWarning" not in line
    ]
    assert warnings == []
