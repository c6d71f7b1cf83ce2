"""The msgspec decoder changes no byte of the output: the same console entry point, run once as
shipped and once with the stdlib decoder patched in, writes identical RECORD lines for the same
sandbox answers (unicode, escapes, numbers, nested metadata, a tie group, user_detail)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from auth0_sandbox import Sandbox, SandboxConfig

from tests.support.tap import catalog_selecting

CREDS = {"access_token": "T"}
# The same `cli()` as the console script; the reference run swaps in json.loads and says on
# stderr how many answers it decoded, so the comparison cannot silently compare msgspec with
# itself.
STDLIB_RUN = (
    "import atexit, json, sys\n"
    "import tap_auth0.http_client as h\n"
    "calls = [0]\n"
    "def stdlib(data):\n"
    "    calls[0] += 1\n"
    "    return json.loads(data)\n"
    "h.decode_json = stdlib\n"
    "atexit.register(lambda: sys.stderr.write(f'STDLIB-DECODED {calls[0]}\\n'))\n"
    "from tap_auth0.tap import cli\n"
    "cli()\n"
)
# Differ between any two runs whatever the decoder: when a record was read, the table version.
VOLATILE = re.compile(rb'"time_extracted":"[^"]*"|"version":\d+')


def run(config: dict, catalog: dict, *, stdlib: bool) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as tmp:
        cfg, cat = Path(tmp, "config.json"), Path(tmp, "catalog.json")
        cfg.write_text(json.dumps(config))
        cat.write_text(json.dumps(catalog))
        if stdlib:
            cmd = [sys.executable, "-c", STDLIB_RUN]
        else:
            cmd = [str(Path(sys.executable).with_name("tap-auth0"))]
        cmd += ["--config", str(cfg), "--catalog", str(cat)]
        return subprocess.run(cmd, capture_output=True, timeout=300, check=True)


def record_lines(stdout: bytes) -> dict[bytes, list[bytes]]:
    """Each stream's RECORD lines, sorted: the fan-out interleaves streams, and concurrent
    listing windows the users, by timing."""
    by_stream: dict[bytes, list[bytes]] = {}
    for line in stdout.splitlines():
        if line.startswith(b'{"type":"RECORD"'):
            stream = line.split(b'"stream":', 1)[1].split(b",", 1)[0]
            by_stream.setdefault(stream, []).append(VOLATILE.sub(b"", line))
    return {stream: sorted(lines) for stream, lines in by_stream.items()}


@pytest.fixture(scope="module")
def tenant():
    with Sandbox(SandboxConfig(users=2500, seed=21, tie_group_size=300, **CREDS)) as sb:
        ids = [u["user_id"] for u in sb.truth()]
        # What a stdlib/msgspec difference would show in: non-ASCII, escapes, control
        # characters, astral-plane characters, large and fractional numbers, nesting.
        sb.update_user(
            ids[0],
            name='Zoë "Q" Ångström \\ / \t 😀 漢字',
            user_metadata={
                "big": 12345678901234567890123,
                "neg": -0.0,
                "pi": 3.141592653589793,
                "tiny": 1e-300,
                "exp": 1.5e300,
                "nested": [{"a": None, "b": [True, False]}, "é\u2028\u0001"],
            },
        )
        sb.update_user(ids[1], app_metadata={"plan": "ünïcödé", "seats": 0.1 + 0.2})
        yield sb


def test_records_are_byte_for_byte_those_of_the_stdlib_decoder(tenant):
    config = {"domain": tenant.base_url, "tenant": "sandbox", **CREDS, "page_size": 100}
    catalog = catalog_selecting(config, {"users", "user_detail"})
    fast = run(config, catalog, stdlib=False)
    ref = run(config, catalog, stdlib=True)
    decoded = re.search(rb"STDLIB-DECODED (\d+)", ref.stderr)
    assert decoded and int(decoded.group(1)) > 2500, "the reference did not use json.loads"
    got, want = record_lines(fast.stdout), record_lines(ref.stdout)
    assert sorted(want) == [b'"user_detail"', b'"users"']
    assert [len(v) for v in want.values()] == [2500, 2500]
    assert got == want
    assert "😀".encode() in b"".join(want[b'"users"'])
