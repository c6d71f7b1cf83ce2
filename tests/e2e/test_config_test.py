"""`meltano config test tap-auth0` with the project's own meltano.yml: Meltano runs a sync and
calls the configuration valid at the first RECORD. A token whose scopes cannot read a
selected stream must make it say "invalid" and name the scopes, not "valid"."""

from __future__ import annotations

from auth0_sandbox import Sandbox, SandboxConfig

from tests.support.meltano import MeltanoRunner


def test_config_test_passes_with_every_scope(meltano: MeltanoRunner) -> None:
    proc = meltano("config", "test", "tap-auth0", check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert "Plugin configuration is valid" in out


def test_config_test_fails_naming_the_missing_scopes(
    meltano: MeltanoRunner, sandbox: Sandbox
) -> None:
    sandbox.configure(scopes="read:clients")
    try:
        proc = meltano("config", "test", "tap-auth0", check=False)
    finally:
        sandbox.configure(scopes=SandboxConfig().scopes)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-3000:]
    assert "Plugin configuration is invalid" in out
    assert "Plugin configuration is valid" not in out
    assert "The token cannot read" in out
    assert "users (needs read:users)" in out and "roles (needs read:roles)" in out
