"""Rewrite the tap's settings in `meltano.yml` and the README table from `tap-auth0 --about`.

Settings are defined once, in tap_auth0/settings.py; run this after changing one
(`make settings-docs`). tests/unit/test_settings_docs.py fails while the two differ.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TAP = [sys.executable, "-c", "from tap_auth0.tap import cli; cli()"]
README_HEADER = "| Setting | Required | Default | Description |"


def about(fmt: str) -> str:
    return subprocess.run(
        [*TAP, "--about", f"--format={fmt}"], capture_output=True, text=True, check=True
    ).stdout


def kind(prop: dict) -> str:
    types = prop["type"] if isinstance(prop["type"], list) else [prop["type"]]
    if prop.get("enum"):
        return "options"
    if prop.get("writeOnly"):
        return "password"
    for name, k in (("integer", "integer"), ("number", "decimal"), ("boolean", "boolean")):
        if name in types:
            return k
    if "array" in types:
        return "array"
    if prop.get("format") == "date-time":
        return "date_iso8601"
    return "string"


def meltano_block(props: dict, names: list[str]) -> str:
    out = ["    settings:"]
    for name in names:
        prop = props[name]
        out += [f"    - name: {name}", f"      kind: {kind(prop)}"]
        if prop.get("writeOnly"):
            out.append("      sensitive: true")
        if prop.get("default") is not None:
            out.append(f"      value: {json.dumps(prop['default'])}")
        out += [f"      label: {json.dumps(prop['title'])}", "      description: >-"]
        out += ["        " + line for line in textwrap.wrap(prop["description"], 88)]
        if prop.get("enum"):
            out.append("      options:")
            for value in prop["enum"]:
                quoted = json.dumps(value)
                out += [f"      - label: {quoted}", f"        value: {quoted}"]
    return "\n".join(out) + "\n"


def main() -> None:
    from tap_auth0.settings import SETTINGS_FIELDS

    props = json.loads(about("json"))["settings"]["properties"]
    names = [f.name for f in SETTINGS_FIELDS]
    meltano = ROOT / "meltano.yml"
    text = meltano.read_text()
    start = text.index("    settings:\n    - name: domain")
    # The settings are the extractor's last key: they run up to the loaders.
    end = text.index("\n  loaders:", start) + 1
    meltano.write_text(text[:start] + meltano_block(props, names) + "\n" + text[end:])

    table = [line for line in about("markdown").splitlines() if line.startswith("|")]
    readme = ROOT / "README.md"
    text = readme.read_text()
    start = text.index(README_HEADER)
    end = text.index("\n\n", start)
    readme.write_text(text[:start] + "\n".join(table) + text[end:])
    print(f"meltano.yml and README.md: {len(names)} settings")


if __name__ == "__main__":
    main()
