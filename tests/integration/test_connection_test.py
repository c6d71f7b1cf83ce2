"""`tap-auth0 --test`: passes quickly with good credentials, says which when it fails."""

from __future__ import annotations

import socket

import pytest
from auth0_sandbox import Sandbox, SandboxConfig

from tests.support.cli import run_cli


@pytest.fixture(scope="module")
def sb():
    with Sandbox(
        SandboxConfig(users=120, seed=2, access_token="T", client_id="ID", client_secret="S")
    ) as box:
        yield box


def last_line(proc) -> str:
    return proc.stderr.strip().splitlines()[-1]


def test_passes_with_client_credentials(sb):
    proc = run_cli(
        {"domain": sb.base_url, "tenant": "sandbox", "client_id": "ID", "client_secret": "S"},
        "--test",
    )
    assert proc.returncode == 0, proc.stderr[-1500:]
    assert "Connection test passed" in proc.stderr and "120 users" in proc.stderr
    assert "S\n" not in proc.stderr


def test_bad_credentials(sb):
    proc = run_cli(
        {"domain": sb.base_url, "tenant": "sandbox", "client_id": "ID", "client_secret": "nope"},
        "--test",
    )
    assert proc.returncode == 3
    assert last_line(proc).startswith("tap-auth0: error: Bad credentials:")
    assert "nope" not in proc.stderr


def test_wrong_audience(sb):
    config = {
        "domain": sb.base_url,
        "tenant": "sandbox",
        "client_id": "ID",
        "client_secret": "S",
        "audience": "https://other.example/api/v2/",
    }
    proc = run_cli(config, "--test")
    assert proc.returncode == 3
    assert "Wrong audience 'https://other.example/api/v2/'" in last_line(proc)


def test_missing_read_users_scope(sb):
    sb.configure(scopes="read:connections")
    try:
        proc = run_cli(
            {"domain": sb.base_url, "tenant": "sandbox", "client_id": "ID", "client_secret": "S"},
            "--test",
        )
    finally:
        sb.configure(scopes="read:users read:connections")
    assert proc.returncode == 3
    assert "Insufficient scope" in last_line(proc)
    assert "grant the application the read:users scope" in last_line(proc)


def test_domain_unreachable():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    proc = run_cli(
        {"domain": f"http://127.0.0.1:{port}", "tenant": "sandbox", "access_token": "T"}, "--test"
    )
    assert proc.returncode == 5
    assert f"Cannot reach 127.0.0.1:{port}" in last_line(proc)
    assert "connection refused" in last_line(proc)
    assert "Traceback" not in proc.stderr
