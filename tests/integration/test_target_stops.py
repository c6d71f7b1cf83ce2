"""A target that stops reading (`tap-auth0 … | head -c N`): one line, exit 141, and
nothing written after the pipe broke."""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

import pytest

from tap_auth0.errors import EXIT_TARGET_STOPPED
from tests.support.cli import TAP_BIN, stderr_lines, tap_env, write_json
from tests.support.sandbox_instances import TOKEN, fresh_sandbox


@pytest.fixture(scope="module")
def sandbox():
    with fresh_sandbox(users=1500, seed=4) as sb:
        yield sb


@pytest.mark.parametrize("unbuffered", ["1", ""], ids=["PYTHONUNBUFFERED", "buffered"])
@pytest.mark.parametrize("read_bytes", [0, 200_000])
def test_a_target_that_stops_reading_ends_the_run_in_one_line(sandbox, unbuffered, read_bytes):
    config = {"domain": sandbox.base_url, "tenant": "sandbox", "access_token": TOKEN}
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [TAP_BIN, "--config", str(write_json(Path(tmp), "config.json", config))]
        proc = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            env=tap_env({"PYTHONUNBUFFERED": unbuffered}),
        )
        assert proc.stdout is not None
        got = proc.stdout.read(read_bytes) if read_bytes else b""
        proc.stdout.close()  # the target is gone: `head -c` has what it wanted
        _, stderr = proc.communicate(timeout=120)
    text = stderr.decode()
    assert proc.returncode == EXIT_TARGET_STOPPED == 141, text[-3000:]
    # No ERROR log line, no BrokenPipeError, nothing but the one line that says it.
    errors = [line for line in stderr_lines(text) if "error" in line.lower()]
    assert errors == [
        "tap-auth0: error: the target stopped reading (broken pipe on stdout); nothing more "
        "was sent, and the next run resumes from the last STATE it received"
    ], text[-3000:]
    assert "Traceback" not in text and "Exception ignored" not in text
    # What the target did read is whole Singer messages (bar the cut last line).
    lines = got.split(b"\n")[:-1]
    assert all(json.loads(line)["type"] for line in lines)
    if read_bytes:
        assert any(b'"type":"RECORD"' in line for line in lines)
