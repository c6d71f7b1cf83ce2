"""The dev environment's pins agree with what declares them: requirements-dev.lock (what
`make venv` and CI install, without resolving) satisfies pyproject.toml, and the pre-commit
hooks run the lock's ruff. A dependency added to pyproject.toml but not locked, or a ruff
bump in one place only, fails here rather than as a tool that behaves differently."""

from __future__ import annotations

import re
import sys

import yaml
from packaging.requirements import Requirement

from tests.support.paths import ROOT

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

LOCK = ROOT / "requirements-dev.lock"


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locked() -> dict[str, str]:
    """Name -> version pinned for this interpreter (markers evaluated)."""
    pins: dict[str, str] = {}
    for line in LOCK.read_text().splitlines():
        if not line or line.startswith((" ", "#")):
            continue
        req = Requirement(line)
        if req.marker is None or req.marker.evaluate():
            (spec,) = req.specifier
            assert spec.operator == "==", line
            pins[canonical(req.name)] = spec.version
    return pins


def declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [
        Requirement(r) for r in [*project["dependencies"], *project["optional-dependencies"]["dev"]]
    ]


def test_the_lock_pins_every_declared_dependency_within_its_range():
    pins = locked()
    for req in declared():
        name = canonical(req.name)
        if req.url:  # a path in this checkout: installed from there, never pinned
            assert name not in pins, f"{LOCK.name} pins {req.name}, a path in this checkout"
            continue
        assert name in pins, f"{req.name} is in pyproject.toml but not in {LOCK.name}: make lock"
        assert req.specifier.contains(pins[name], prereleases=True), (
            f"{LOCK.name} pins {req.name}=={pins[name]}, outside {req}: make lock"
        )


def test_the_dev_extra_installs_the_sandbox_from_this_checkout():
    """`pip install -e '.[dev]'` brings the sandbox the tests and `make demo` start."""
    sandbox = tomllib.loads((ROOT / "sandbox" / "pyproject.toml").read_text())["project"]
    (req,) = [r for r in declared() if canonical(r.name) == canonical(sandbox["name"])]
    assert req.url == "{root:uri}/sandbox", req
    assert not req.marker, req


def test_pre_commit_hooks_run_the_locked_tools():
    pins = locked()
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    hooks = [hook for repo in config["repos"] for hook in repo["hooks"]]
    checked = 0
    for hook in hooks:
        for dep in hook.get("additional_dependencies", []):
            req = Requirement(dep)
            if canonical(req.name) in pins:
                assert str(req.specifier) == f"=={pins[canonical(req.name)]}", (hook["id"], dep)
                checked += 1
    assert checked >= 2, "the ruff hooks pin ruff"
