"""Plain request/response values passed between the HTTP plumbing and the route handlers."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Request:
    method: str
    path: str  # raw (still percent-encoded) path
    query: dict[str, str]  # first value of each parameter
    headers: dict[str, str]  # lower-cased names
    body: bytes = b""
    scopes: frozenset[str] = frozenset()  # of the bearer token, once authenticated

    def json(self) -> Any:
        """Body parsed as JSON; ValueError when it is not JSON."""
        return json.loads(self.body.decode() or "null")


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    chunks: int = 0  # >0: write the body in chunks of this many bytes (downloads)


def json_response(status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    return Response(status, body, headers=dict(headers or {}))
