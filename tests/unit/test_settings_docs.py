"""Settings are defined once (tap_auth0/settings.py): `meltano.yml`, the README's compact
table and docs/settings.md must say exactly what `tap-auth0 --about` says."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
KINDS = {"integer": "integer", "number": "decimal", "boolean": "boolean", "array": "array"}


def about(fmt: str) -> str:
    cmd = [
        sys.executable,
        "-c",
        "from tap_auth0.tap import cli; cli()",
        "--about",
        f"--format={fmt}",
    ]
    return subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=ROOT).stdout


@pytest.fixture(scope="module")
def properties() -> dict:
    return json.loads(about("json"))["settings"]["properties"]


@pytest.fixture(scope="module")
def meltano_settings() -> dict:
    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    (tap,) = [p for p in project["plugins"]["extractors"] if p["name"] == "tap-auth0"]
    return {s["name"]: s for s in tap["settings"]}


def expected_kind(prop: dict) -> str:
    if prop.get("enum"):
        return "options"
    if prop.get("writeOnly"):
        return "password"
    if prop.get("format") == "date-time":
        return "date_iso8601"
    types = prop["type"] if isinstance(prop["type"], list) else [prop["type"]]
    return next((KINDS[t] for t in types if t in KINDS), "string")


def test_meltano_yml_lists_every_tap_setting_and_nothing_else(properties, meltano_settings):
    from tap_auth0.settings import SETTINGS_FIELDS

    ours = [f.name for f in SETTINGS_FIELDS]
    assert list(meltano_settings) == ours
    assert set(ours) <= set(properties)


def test_meltano_yml_matches_about(properties, meltano_settings):
    for name, setting in meltano_settings.items():
        prop = properties[name]
        assert setting["kind"] == expected_kind(prop), name
        assert setting.get("value") == prop.get("default"), name
        assert bool(setting.get("sensitive")) == bool(prop.get("writeOnly")), name
        assert setting["label"] == prop["title"], name
        assert " ".join(setting["description"].split()) == prop["description"], name
        if prop.get("enum"):
            assert [o["value"] for o in setting["options"]] == prop["enum"], name


def test_settings_page_table_is_the_about_table():
    table = [line for line in about("markdown").splitlines() if line.startswith("|")]
    page = (ROOT / "docs" / "settings.md").read_text().splitlines()
    start = page.index(table[0])
    assert page[start : start + len(table)] == table


def readme_settings() -> tuple[list[list[str]], str]:
    """The README's settings table (cells of each row) and the paragraph after it."""
    text = (ROOT / "README.md").read_text()
    start = text.index("\n## Settings\n")
    section = text[start : text.index("\n## ", start + 1)]
    lines = section.splitlines()
    start = lines.index("| Setting | Default | What it does |")
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split(" | ")])
    after = " ".join(lines[start + 2 + len(rows) :])
    return rows, after


def test_readme_table_lists_the_tap_settings_with_their_defaults(properties):
    """A line per tap setting, in --about's order, with its default (or `required`) and the
    start of its description; the SDK's settings by name; the full page linked."""
    from tap_auth0.settings import SETTINGS_FIELDS

    rows, after = readme_settings()
    required = json.loads(about("json"))["settings"]["required"]
    assert [row[0] for row in rows] == [f"`{f.name}`" for f in SETTINGS_FIELDS]
    for name, default, what in ((row[0].strip("`"), row[1], row[2]) for row in rows):
        prop = properties[name]
        if name in required:
            assert default == "required", name
        elif prop.get("default") is None:
            assert default == "", name
        else:
            value = prop["default"]
            assert default == f"`{value if isinstance(value, str) else json.dumps(value)}`", name
        assert what and prop["description"].startswith(what), name
    ours = {f.name for f in SETTINGS_FIELDS}
    for name in set(properties) - ours:
        assert f"`{name}`" in after, f"README: the SDK setting {name} is not named"
    assert "(docs/settings.md)" in (ROOT / "README.md").read_text()


def test_schema_carries_bounds_enums_and_defaults(properties):
    assert properties["page_size"]["minimum"] == 1 and properties["page_size"]["maximum"] == 100
    assert properties["sort"]["enum"] == ["updated_at:1", "created_at:1"]
    assert properties["max_requests_per_second"]["exclusiveMinimum"] == 0
    assert properties["max_concurrency"]["default"] == 8
