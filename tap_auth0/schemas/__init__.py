"""JSON Schemas for tap-auth0 streams, shipped as package data.

Schemas live as plain ``<name>.json`` files so they can be reviewed as data and checked
against recorded Auth0 payloads, instead of being rebuilt in Python code.
"""

from __future__ import annotations

import json
from importlib.resources import files
from typing import Any


def load_schema(name: str) -> dict[str, Any]:
    """Return the stream schema ``<name>.json`` as a fresh dict.

    Read through importlib.resources so it works from an installed wheel or zip, not only
    from a source checkout; a new dict per call lets a stream adjust its copy safely.
    """
    if not name or "/" in name or "\\" in name or name.startswith("."):
        raise ValueError(f"Invalid schema name: {name!r}")
    resource = files(__name__).joinpath(f"{name}.json")
    if not resource.is_file():
        raise FileNotFoundError(f"No schema named {name!r} in {__name__}")
    schema: dict[str, Any] = json.loads(resource.read_text(encoding="utf-8"))
    return schema
