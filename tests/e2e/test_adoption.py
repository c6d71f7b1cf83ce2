"""The README's "Use it in your Meltano project", as a user with their own project runs it.

In a temp folder, against the sandbox and nothing else: ``meltano init``; ``meltano add
tap-auth0 --from-ref`` the generated plugin definition, ``--no-install``; ``pip_url`` set to
this checkout (built and installed like a release, so a file missing from the wheel fails
here); ``target-jsonl`` from the definition the README links to (docs/meltano.md,
``--from-ref``: Meltano Hub is not reachable from CI); ``meltano install``; ``meltano config
set`` (the secret must go to ``.env``); ``meltano config test tap-auth0``; ``meltano run
tap-auth0 target-jsonl``, which must land every sandbox user. The commands are checked against
the README section, and the loader definition is read from the page it links to, so neither can
say something else.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from auth0_sandbox import Sandbox, SandboxConfig

from tests.support.meltano import MELTANO, clean_env
from tests.support.paths import ROOT

DEFINITION = ROOT / "plugin" / "extractors" / "tap-auth0--tap-auth0-singer.yml"
SECTION = "## Use it in your Meltano project"
# Where the README sends users without Meltano Hub access, for the loader's definition.
NO_HUB_LINK = "docs/meltano.md#without-meltano-hub"
NO_HUB_PAGE = ROOT / "docs" / "meltano.md"
USERS, SEED = 400, 14
CLIENT_ID, CLIENT_SECRET = "adoption-client", "adoption-secret-7c1e"
TIMEOUT = 600


def readme_section() -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index(SECTION)
    end = text.find("\n## ", start + len(SECTION))
    return text[start : end if end >= 0 else None]


def readme_loader_definition(section: str) -> str:
    """The target-jsonl definition the README sends users to write (the linked heredoc)."""
    assert f"({NO_HUB_LINK})" in section, f"README: the link to {NO_HUB_LINK} is gone"
    page = NO_HUB_PAGE.read_text()
    match = re.search(r"cat > target-jsonl\.yml <<'EOF'\n(.*?)\nEOF\n", page, re.S)
    assert match, f"{NO_HUB_PAGE.name}: the target-jsonl.yml heredoc is gone"
    return match.group(1) + "\n"


class Project:
    """`meltano <args>` in a user's project folder, with a clean, offline environment."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.n = 0
        self.env = clean_env()
        # As the Makefile: Meltano 4 installs plugins with uv, which trusts the system CAs.
        self.env.setdefault("UV_SYSTEM_CERTS", "1")

    def __call__(self, *args: str, cwd: Path | None = None) -> str:
        self.n += 1
        proc = subprocess.run(
            [str(MELTANO), *args],
            cwd=cwd or self.path,
            env=self.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
        out = proc.stdout + proc.stderr
        (self.path.parent / f"meltano-{self.n}-{args[0]}.log").write_text(out)
        if proc.returncode != 0:
            tail = "\n".join(out.splitlines()[-60:])
            pytest.fail(f"`meltano {' '.join(args)}` exited {proc.returncode}:\n{tail}")
        return out

    def meltano_yml(self) -> dict:
        return yaml.safe_load((self.path / "meltano.yml").read_text())


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    cfg = SandboxConfig(users=USERS, seed=SEED, client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    with Sandbox(cfg) as sb:
        yield sb


def test_readme_adoption_path(sandbox: Sandbox, tmp_path: Path) -> None:
    if not MELTANO.exists():
        msg = f"Meltano not installed ({MELTANO}): run `make meltano` (make test does)"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    section = readme_section()
    rel = DEFINITION.relative_to(ROOT)
    local_add = f"meltano add tap-auth0 --from-ref /path/to/tap-auth0/{rel} --no-install"
    for told in (
        local_add,
        "pip_url: /path/to/tap-auth0",
        "meltano add target-jsonl --from-ref target-jsonl.yml",
        "meltano install",
        "meltano config set tap-auth0 domain",
        "meltano config set tap-auth0 client_id",
        "meltano config set tap-auth0 client_secret",
        "meltano config test tap-auth0",
        "meltano run tap-auth0 target-jsonl",
    ):
        assert told in section, f"README no longer tells users `{told}`"

    meltano = Project(tmp_path / "my-project")
    meltano("init", meltano.path.name, "--no-usage-stats", cwd=tmp_path)

    # the extractor from the definition file, then pip_url -> this checkout
    meltano("add", "tap-auth0", "--from-ref", str(DEFINITION), "--no-install")
    definition = yaml.safe_load(DEFINITION.read_text())
    project = meltano.meltano_yml()
    assert set(project["plugins"]) == {"extractors"}, "added more than the extractor"
    (tap,) = project["plugins"]["extractors"]
    assert tap["name"] == "tap-auth0" and tap["variant"] == definition["variant"]
    assert tap["pip_url"] == definition["pip_url"]
    assert [s["name"] for s in tap["settings"]] == [s["name"] for s in definition["settings"]]
    yml = meltano.path / "meltano.yml"
    text = yml.read_text()
    assert text.count(f"pip_url: {definition['pip_url']}") == 1
    yml.write_text(text.replace(f"pip_url: {definition['pip_url']}", f"pip_url: {ROOT}"))

    # the loader from the definition the README links to, then one install of both
    (meltano.path / "target-jsonl.yml").write_text(readme_loader_definition(section))
    meltano("add", "target-jsonl", "--from-ref", "target-jsonl.yml", "--no-install")
    meltano("install")
    site = next((meltano.path / ".meltano/extractors/tap-auth0/venv/lib").glob("*/site-packages"))
    assert not list(site.glob("*tap_auth0*.pth")), "installed editable, not like a release"
    schemas = sorted(p.name for p in (ROOT / "tap_auth0" / "schemas").glob("*.json"))
    installed = sorted(p.name for p in (site / "tap_auth0" / "schemas").glob("*.json"))
    assert schemas and installed == schemas, "the installed tap lacks stream schemas"

    # configure: the secret is sensitive, so it goes to .env, never meltano.yml
    meltano("config", "set", "tap-auth0", "domain", sandbox.base_url)
    # The sandbox's loopback domain does not name the tenant (acme.eu.auth0.com would).
    meltano("config", "set", "tap-auth0", "tenant", "sandbox")
    meltano("config", "set", "tap-auth0", "client_id", CLIENT_ID)
    meltano("config", "set", "tap-auth0", "client_secret", CLIENT_SECRET)
    assert CLIENT_SECRET not in yml.read_text()
    assert f"TAP_AUTH0_CLIENT_SECRET='{CLIENT_SECRET}'" in (meltano.path / ".env").read_text()
    assert CLIENT_SECRET not in meltano("config", "list", "tap-auth0")

    out = meltano("config", "test", "tap-auth0")
    assert "Plugin configuration is valid" in out
    assert CLIENT_SECRET not in out

    meltano("run", "tap-auth0", "target-jsonl")
    truth = sandbox.truth()
    assert len(truth) == USERS
    lines = (meltano.path / "output" / "users.jsonl").read_text().splitlines()
    ids = [json.loads(line)["user_id"] for line in lines]
    assert len(ids) == len(truth), f"users.jsonl: {len(ids)} lines, sandbox: {len(truth)} users"
    assert set(ids) == {u["user_id"] for u in truth}
