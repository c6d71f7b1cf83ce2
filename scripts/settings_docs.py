"""Rewrite, from `tap-auth0 --about`: the tap's settings in `meltano.yml`, the README table,
and the Meltano Hub plugin definition `plugin/extractors/tap-auth0--tap-auth0-singer.yml`
(what `meltano add tap-auth0 --from-ref <file>` adds to a user's project).

Settings are defined once, in tap_auth0/settings.py; run this after changing one
(`make settings-docs`). tests/unit/test_settings_docs.py and
tests/unit/test_plugin_definition.py fail while any of the three differs.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
TAP = [sys.executable, "-c", "from tap_auth0.tap import cli; cli()"]
README_HEADER = "| Setting | Required | Default | Description |"

# The repository users install from. A placeholder until the project has its public home:
# change it here and run `make settings-docs` (the README section quotes the same URL, and
# tests/unit/test_plugin_definition.py checks that it does).
REPO_URL = "https://github.com/your-org/tap-auth0"
# The Hub's identity of this implementation: (name, variant). The variant is the PyPI
# distribution name, which tells it apart from the other taps called tap-auth0.
VARIANT = "tap-auth0-singer"
PLUGIN_FILE = ROOT / "plugin" / "extractors" / f"tap-auth0--{VARIANT}.yml"
# What users pass to `meltano add tap-auth0 --from-ref` (the README quotes it).
FROM_REF_URL = (
    REPO_URL.replace("https://github.com/", "https://raw.githubusercontent.com/")
    + f"/main/{PLUGIN_FILE.relative_to(ROOT).as_posix()}"
)
# SDK capability (--about) -> Meltano's name for it (meltano.schema.json, extractors). A new
# SDK capability fails `make settings-docs` until it is mapped here (None: not for Meltano).
CAPABILITIES = {
    "about": "about",
    "activate-version": "activate-version",
    "batch": "batch",
    "catalog": "catalog",
    "discover": "discover",
    "log-based": "log-based",
    "properties": "properties",
    "schema-flattening": "schema-flattening",
    "state": "state",
    "stream-maps": "stream-maps",
    "structured-logging": "structured-logging",
    "test": "test",
}


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


def plugin_kind(prop: dict) -> str:
    """Meltano Hub's kind: as `kind`, but secrets are `string` + `sensitive: true` (the Hub
    deprecates `kind: password`), an open object is `object`, and a value that may be one
    of several types (`oneOf`/`anyOf`) is a `string` when a string is among them."""
    alternatives = prop.get("oneOf") or prop.get("anyOf")
    if alternatives and "type" not in prop:
        types = [
            x
            for alt in alternatives
            if isinstance(alt, dict)
            for x in (alt.get("type") if isinstance(alt.get("type"), list) else [alt.get("type")])
            if x not in (None, "null")
        ]
        if "string" in types or not types:
            return "string"
        prop = {**prop, "type": types}
    types = prop["type"] if isinstance(prop["type"], list) else [prop["type"]]
    if "object" in types:
        return "object"
    k = kind(prop)
    return "string" if k == "password" else k


def plugin_settings(props: dict, prefix: str = "") -> list[dict]:
    """Every `--about` setting as a Hub setting, in `--about` order. An object whose keys are
    fixed (`batch_config`, `faker_config`) becomes one dotted setting per key, as the Hub does
    (`batch_config.encoding.format`); an object with free keys (`stream_maps`) stays one
    `object` setting."""
    out: list[dict] = []
    for name, prop in props.items():
        full = prefix + name
        children = prop.get("properties") or {}
        if children and not isinstance(prop.get("additionalProperties"), dict):
            out += plugin_settings(children, full + ".")
            continue
        setting: dict = {"name": full, "kind": plugin_kind(prop)}
        if prop.get("default") is not None:
            setting["value"] = prop["default"]
        setting["label"] = prop.get("title") or full
        if prop.get("description"):
            setting["description"] = prop["description"]
        if prop.get("writeOnly") or prop.get("secret"):
            setting["sensitive"] = True
        if prop.get("enum"):
            setting["options"] = [{"label": v, "value": v} for v in prop["enum"]]
        out.append(setting)
    return out


def plugin_definition(about_json: dict, extractor: dict) -> dict:
    """The Hub plugin definition. Settings and capabilities come from `--about`; the
    namespace, executable and settings_group_validation from the repo's own `meltano.yml`
    extractor block, which the end-to-end tests run."""
    unknown = [c for c in about_json["capabilities"] if c not in CAPABILITIES]
    if unknown:
        raise SystemExit(f"map the SDK capabilities {unknown} in CAPABILITIES first")
    capabilities = sorted({CAPABILITIES[c] for c in about_json["capabilities"]} - {None})
    return {
        "name": about_json["name"],
        "variant": VARIANT,
        "namespace": extractor["namespace"],
        "label": "Auth0",
        "description": about_json["description"],
        "docs": f"{REPO_URL}#readme",
        "repo": REPO_URL,
        "pip_url": f"git+{REPO_URL}.git",
        "executable": extractor["executable"],
        "domain_url": "https://auth0.com/docs/api/management/v2",
        "keywords": ["api", "meltano_sdk"],
        "capabilities": capabilities,
        "settings_group_validation": extractor["settings_group_validation"],
        "settings": plugin_settings(about_json["settings"]["properties"]),
    }


def plugin_yaml(definition: dict) -> str:
    header = (
        f"# Meltano Hub plugin definition of tap-auth0 (variant {VARIANT}).\n"
        "# Generated from `tap-auth0 --about` by scripts/settings_docs.py "
        "(make settings-docs): do not edit.\n"
        f"# Add it to a Meltano (4) project: meltano add tap-auth0 --from-ref {FROM_REF_URL}\n"
        "# (or this file's path); README.md, 'Use it in your Meltano project'.\n"
    )
    body = yaml.safe_dump(definition, sort_keys=False, width=88, allow_unicode=True)
    return header + body


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

    about_json = json.loads(about("json"))
    props = about_json["settings"]["properties"]
    names = [f.name for f in SETTINGS_FIELDS]
    meltano = ROOT / "meltano.yml"
    text = meltano.read_text()
    (extractor,) = [
        p for p in yaml.safe_load(text)["plugins"]["extractors"] if p["name"] == "tap-auth0"
    ]
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

    definition = plugin_definition(about_json, extractor)
    PLUGIN_FILE.parent.mkdir(parents=True, exist_ok=True)
    PLUGIN_FILE.write_text(plugin_yaml(definition))
    print(f"meltano.yml and README.md: {len(names)} settings")
    print(f"{PLUGIN_FILE.relative_to(ROOT)}: {len(definition['settings'])} settings")


if __name__ == "__main__":
    main()
