#!/usr/bin/env python3
"""Validate meltano.yml against Meltano's JSON schema (the copy check-jsonschema ships as
`vendor.meltano`): the pre-commit hook `check-meltano`.

    python scripts/check_meltano_yml.py [meltano.yml ...]

One known exception is allowed: `env_aliases` on a setting. The schema leaves it out
because Meltano marks it deprecated, yet Meltano 4 still reads it, and it is the only way
to let one variable (TAP_AUTH0_DUCKDB_PATH, TAP_AUTH0_PG_URI, TAP_AUTH0_JSONL_DIR) override
a setting that has a default: `env` only writes, and `$VAR` in a value has no default.
Everything else in the file must fit the schema.
"""

from __future__ import annotations

import json
import sys
import typing as t
from importlib.resources import files

import jsonschema
import yaml

ALLOWED_EXTRA = "env_aliases"


def without_allowed(node: t.Any) -> t.Any:
    if isinstance(node, dict):
        return {k: without_allowed(v) for k, v in node.items() if k != ALLOWED_EXTRA}
    if isinstance(node, list):
        return [without_allowed(v) for v in node]
    return node


def errors(path: str, schema: dict) -> list[str]:
    with open(path, encoding="utf-8") as fh:
        document = without_allowed(yaml.safe_load(fh))
    validator = jsonschema.validators.validator_for(schema)(schema)
    return [f"{path}::{e.json_path}: {e.message}" for e in validator.iter_errors(document)]


def main(paths: list[str]) -> int:
    vendored = files("check_jsonschema.builtin_schemas.vendor").joinpath("meltano.json")
    schema = json.loads(vendored.read_text(encoding="utf-8"))
    found = [line for path in paths or ["meltano.yml"] for line in errors(path, schema)]
    for line in found:
        print(line)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
