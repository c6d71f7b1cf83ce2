"""/_sandbox admin endpoints and the tap-auth0-sandbox console script."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import requests
from auth0_sandbox import Sandbox

from tests.support.sandbox_instances import TOKEN

Fresh = Callable[..., AbstractContextManager[Sandbox]]


def test_admin_endpoints(fresh: Fresh) -> None:
    with fresh(users=100) as sb:
        admin = f"{sb.base_url}/_sandbox"
        truth = requests.get(f"{admin}/truth").json()
        assert truth == sb.truth() and len(truth) == 100
        created = requests.post(
            f"{admin}/users",
            json={"email": "new.one@example.com", "user_metadata": {"a": {"b": 1}}},
        )
        assert created.status_code == 201
        uid = created.json()["user_id"]
        assert uid.startswith("auth0|") and created.json()["name"] == "new.one@example.com"
        assert requests.post(f"{admin}/users", json={"user_id": uid}).status_code == 409
        quoted = requests.utils.quote(uid, safe="")
        patched = requests.patch(f"{admin}/users/{quoted}", json={"app_metadata": {"x": 1}})
        assert patched.json()["app_metadata"] == {"x": 1}
        assert patched.json()["updated_at"] >= created.json()["updated_at"]
        assert requests.delete(f"{admin}/users/{quoted}").status_code == 204
        assert requests.delete(f"{admin}/users/{quoted}").status_code == 404
        touched = requests.post(f"{admin}/touch", params={"count": 5, "seed": 9}).json()
        assert len(set(touched["user_ids"])) == 5
        after = {u["user_id"]: u for u in sb.truth()}
        assert all("touch" in after[i]["user_metadata"] for i in touched["user_ids"])
        cfg = requests.post(f"{admin}/configure", json={"latency_ms": 5, "export_fail": True})
        assert cfg.json()["latency_ms"] == 5 and sb.config.export_fail is True
        bad = requests.post(f"{admin}/configure", json={"users": 5})
        assert bad.status_code == 400
        assert requests.post(f"{admin}/expire-tokens").json()["expired"] >= 1
        r = requests.get(
            f"{sb.base_url}/api/v2/users", headers={"Authorization": f"Bearer {TOKEN}"}
        )
        assert r.status_code == 401
        stats = requests.get(f"{admin}/stats").json()
        assert stats["requests"] == 1 and stats["by_status"] == {"401": 1}
        assert requests.post(f"{admin}/stats/reset").json()["requests"] == 0


def test_cli_process(tmp_path: Path) -> None:
    exe = shutil.which("tap-auth0-sandbox", path=os.path.dirname(sys.executable))
    cmd = [exe] if exe else [sys.executable, "-m", "auth0_sandbox.cli"]
    ready = tmp_path / "ready"
    proc = subprocess.Popen(
        [
            *cmd,
            "--port",
            "0",
            "--users",
            "60",
            "--seed",
            "2",
            "--access-token",
            "T",
            "--client-id",
            "ID",
            "--client-secret",
            "S",
            "--rate-limit-burst",
            "50",
            "--rate-limit-per-second",
            "10",
            "--ready-file",
            str(ready),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline().strip()
        assert first.startswith("Sandbox listening on http://127.0.0.1:")
        base = first.rsplit(" ", 1)[1]
        banner = "".join(proc.stdout.readline() for _ in range(6))
        assert "client_id:      ID" in banner and f"audience:       {base}/api/v2/" in banner
        assert "client_secret:  S" in banner and "access_token:   T" in banner
        deadline = time.monotonic() + 10
        while not ready.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert ready.read_text().strip() == base
        r = requests.get(
            f"{base}/api/v2/users",
            headers={"Authorization": "Bearer T"},
            params={"include_totals": "true"},
        )
        assert r.json()["total"] == 60 and r.headers["x-ratelimit-limit"] == "50"
        tok = requests.post(
            f"{base}/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": "ID",
                "client_secret": "S",
                "audience": f"{base}/api/v2/",
            },
        )
        assert tok.status_code == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=10)
    assert proc.returncode == 0
