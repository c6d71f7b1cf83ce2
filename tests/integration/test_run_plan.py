"""What a run says about itself, through the real CLI against the sandbox: `--test` prints a
plan (one line per selected stream, expected records, requests, fan-outs) and nothing else;
a token that cannot read a selected stream fails `--test` and the run itself, naming the
scopes; a run logs progress with an ETA and ends with one summary table, also as JSON."""

from __future__ import annotations

import json
import re

import pytest
from auth0_sandbox import Sandbox, SandboxConfig

from tap_auth0.streams.registry import STREAMS
from tests.support.cli import run_cli, stderr_lines
from tests.support.messages import parse, records
from tests.support.tap import catalog_selecting

USERS = 150
DEFAULT_SELECTED = [s.name for s in STREAMS if s.selected_by_default]
FAN_OUTS = {
    "role_members": "role",
    "role_permissions": "role",
    "organization_members": "organization",
    "organization_connections": "organization",
    "organization_invitations": "organization",
    "connection_clients": "connection",
}


@pytest.fixture(scope="module")
def sb():
    with Sandbox(
        SandboxConfig(users=USERS, seed=31, access_token="T", client_id="ID", client_secret="S")
    ) as box:
        yield box


def client_config(sb: Sandbox, **extra) -> dict:
    return {
        "domain": sb.base_url,
        "tenant": "sandbox",
        "client_id": "ID",
        "client_secret": "S",
        **extra,
    }


def plan_lines(stderr: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in stderr_lines(stderr):
        match = re.match(r"^  ([a-z_]+): (.*)$", line)
        if match and match.group(1) != "total":
            assert match.group(1) not in found, f"two lines for {match.group(1)}"
            found[match.group(1)] = match.group(2)
    return found


def test_test_prints_one_plan_line_per_selected_stream_and_no_data(sb):
    proc = run_cli(client_config(sb), "--test")
    assert proc.returncode == 0, proc.stderr[-1500:]
    assert proc.stdout == ""  # no SCHEMA, no RECORD: no user's data leaves the tenant
    assert "ERROR" not in proc.stderr and "unhandled" not in proc.stderr
    lines = plan_lines(proc.stderr)
    assert list(lines) == DEFAULT_SELECTED
    truth = sb.tenant_truth()
    assert f"{USERS:,} records" in lines["users"]
    assert "user_detail" not in lines  # opt-in: a request per user
    for name in ("roles", "organizations", "clients", "connections", "resource_servers"):
        assert f"; {len(truth[name]):,} record" in lines[name], (name, lines[name])
        assert lines[name].startswith("scope ok ("), lines[name]
    for name, per in FAN_OUTS.items():
        parents = len(truth[f"{per}s"])
        assert f"{parents:,}+ requests, one per {per}" in lines[name], (name, lines[name])
    assert stderr_lines(proc.stderr)[-1].startswith("Connection test passed")


def test_test_says_user_detail_costs_a_request_per_user(sb):
    config = client_config(sb)
    catalog = catalog_selecting(config, {"users", "user_detail"})
    proc = run_cli(config, "--test", catalog=catalog)
    assert proc.returncode == 0, proc.stderr[-1500:]
    lines = plan_lines(proc.stderr)
    assert list(lines) == ["users", "user_detail"]
    assert f"{USERS:,} records; {USERS:,} requests, one per user" in lines["user_detail"]


def test_test_fails_naming_the_scopes_a_selected_stream_lacks(sb):
    sb.configure(scopes="read:users read:clients")
    try:
        proc = run_cli(client_config(sb), "--test")
    finally:
        sb.configure(scopes=SandboxConfig().scopes)
    assert proc.returncode == 3, proc.stderr[-1500:]
    assert proc.stdout == ""
    lines = plan_lines(proc.stderr)
    assert lines["clients"].startswith("scope ok (read:clients)")
    assert lines["roles"] == "scope MISSING read:roles: cannot be read with this token"
    last = stderr_lines(proc.stderr)[-1]
    assert last.startswith("tap-auth0: error: The token cannot read ")
    assert "roles (needs read:roles)" in last and "logs (needs read:logs)" in last
    assert not re.search(r"[ :]clients \(", last)  # the one stream it can read
    assert "Traceback" not in proc.stderr


def test_test_plans_the_catalog_selection(sb):
    config = client_config(sb)
    catalog = catalog_selecting(config, {"users", "clients", "organizations"})
    proc = run_cli(config, "--test", catalog=catalog)
    assert proc.returncode == 0, proc.stderr[-1500:]
    assert list(plan_lines(proc.stderr)) == ["users", "organizations", "clients"]


def test_a_run_fails_before_any_record_when_a_selected_stream_cannot_be_read(sb):
    """What `meltano config test` runs (a sync, passed at the first RECORD): no RECORD,
    exit 3 and the scopes named."""
    sb.configure(scopes="read:clients")
    try:
        proc = run_cli(client_config(sb))
    finally:
        sb.configure(scopes=SandboxConfig().scopes)
    assert proc.returncode == 3, proc.stderr[-1500:]
    assert not [m for m in parse(proc.stdout) if m["type"] == "RECORD"]
    last = stderr_lines(proc.stderr)[-1]
    assert "The token cannot read" in last and "users (needs read:users)" in last


def test_a_narrow_token_reads_the_streams_it_was_selected_for(sb):
    sb.configure(scopes="read:clients")
    try:
        config = client_config(sb)
        proc = run_cli(config, catalog=catalog_selecting(config, {"clients"}))
    finally:
        sb.configure(scopes=SandboxConfig().scopes)
    assert proc.returncode == 0, proc.stderr[-1500:]
    assert len(records(parse(proc.stdout), "clients")) == len(sb.tenant_truth()["clients"])


def test_the_summary_table_and_json_report_match_the_run(sb, tmp_path):
    path = tmp_path / "report.json"
    config = client_config(sb, run_report_path=str(path))
    selected = {"users", "roles", "role_members", "organizations", "organization_members"}
    proc = run_cli(config, catalog=catalog_selecting(config, selected))
    assert proc.returncode == 0, proc.stderr[-1500:]
    messages = parse(proc.stdout)
    report = json.loads(path.read_text())
    assert report["status"] == "complete"
    rows = {row["stream"]: row for row in report["streams"]}
    truth = sb.tenant_truth()
    for name in selected:
        assert rows[name]["records"] == len(records(messages, name)), name
    assert rows["users"]["records"] == USERS
    # One request per role and per organization, at least (pages of 50 or 100 members).
    assert rows["role_members"]["requests"] >= len(truth["roles"])
    assert rows["organization_members"]["requests"] >= len(truth["organizations"])
    assert rows["roles"]["requests"] >= 1
    assert report["totals"]["records"] == sum(r["records"] for r in report["streams"])
    assert report["skipped"] == {}
    lines = stderr_lines(proc.stderr)
    start = lines.index(next(x for x in lines if x.startswith("Run summary (complete")))
    table = {x.split()[0]: x.split()[1:] for x in lines[start + 2 :] if x.startswith("  ")}
    for name, row in rows.items():
        assert table[name][:4] == [
            f"{row['records']:,}",
            f"{row['requests']:,}",
            f"{row['429s']:,}",
            f"{row['retries']:,}",
        ], name


def test_the_report_names_streams_skipped_at_run_time():
    """A token whose scopes are not readable (not a JWT) finds out per stream: the stream is
    skipped, the run goes on, and the report says which and why."""
    with Sandbox(
        SandboxConfig(users=20, seed=32, access_token="T", static_scopes="read:users read:roles")
    ) as box:
        config = {"domain": box.base_url, "tenant": "sandbox", "access_token": "T"}
        catalog = catalog_selecting(config, {"users", "roles", "organizations"})
        proc = run_cli(config, catalog=catalog)
    assert proc.returncode == 0, proc.stderr[-1500:]
    lines = stderr_lines(proc.stderr)
    assert any(x.startswith("Run summary (complete, with streams skipped") for x in lines)
    assert "  skipped: organizations (needs read:organizations)" in " ".join(lines) or any(
        x.startswith("  skipped: organizations (needs read:organizations") for x in lines
    )


def test_progress_lines_with_an_eta_for_users_and_every_fan_out(sb):
    config = client_config(sb)
    selected = {"users", "user_detail", "roles", "role_members", "organizations"}
    selected |= {"organization_members"}
    sb.configure(latency_ms=2)
    try:
        proc = run_cli(
            config,
            catalog=catalog_selecting(config, selected),
            env={"TAP_AUTH0_PROGRESS_SECONDS": "0.001"},
        )
    finally:
        sb.configure(latency_ms=0)
    assert proc.returncode == 0, proc.stderr[-1500:]
    lines = [x for x in stderr_lines(proc.stderr) if x.startswith("Progress: ")]
    truth = sb.tenant_truth()
    expected = {
        "user_detail": f"of {USERS:,} users",
        "role_members": f"of {len(truth['roles']):,} roles",
        "organization_members": f"of {len(truth['organizations']):,} organizations",
    }
    for name, total in expected.items():
        mine = [x for x in lines if x.startswith(f"Progress: {name}: ")]
        assert mine, (name, lines[:5])
        assert any(total in x and "left" in x for x in mine), (name, mine[:3])
    assert any(x.startswith("Progress: users: ") and "left" in x for x in lines)


def test_an_unwritable_report_path_is_a_setting_error_before_any_data(sb, tmp_path):
    path = tmp_path / "missing" / "report.json"
    proc = run_cli(client_config(sb, run_report_path=str(path)))
    assert proc.returncode == 2, proc.stderr[-1500:]
    assert not proc.stdout.count('"type":"RECORD"')
    assert stderr_lines(proc.stderr)[-1] == (
        f"tap-auth0: error: Setting 'run_report_path': {path}: its folder does not exist"
    )
