"""Injected faults: what a flaky tenant, a proxy in front of it or the network does to an
answer. One seeded draw per /api/v2 request picks at most one fault, by its rate knob:

- ``reset``: the connection is dropped (RST) before any answer;
- ``5xx``: Auth0's JSON 500/502/503/504;
- ``html``: a proxy's HTML 502/504 page (nginx's), not Auth0's JSON;
- ``non_json``: a 200 whose body is an HTML maintenance page;
- ``truncate``: the real answer, cut: headers announce the whole body, a third is missing,
  then the connection closes;
- ``stall``: the real answer's headers and half its body, then silence for
  ``fault_stall_seconds`` before the connection closes.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .messages import Response, json_response

if TYPE_CHECKING:
    from http.server import BaseHTTPRequestHandler

    from .config import SandboxConfig

STATUS_BODIES = {
    500: {
        "statusCode": 500,
        "error": "Internal Server Error",
        "message": "An internal server error occurred",
    },
    502: {"statusCode": 502, "error": "Bad Gateway", "message": "Bad Gateway"},
    503: {
        "statusCode": 503,
        "error": "Service Unavailable",
        "message": "The service is temporarily unavailable, please try again later.",
        "errorCode": "service_unavailable",
    },
    504: {
        "statusCode": 504,
        "error": "Gateway Timeout",
        "message": "The request timed out, please try again later.",
    },
}
_PROXY_TITLES = {502: "502 Bad Gateway", 504: "504 Gateway Time-out"}
MAINTENANCE_PAGE = (
    "<!DOCTYPE html><html><head><title>Down for maintenance</title></head><body><h1>We'll be "
    "back shortly</h1></body></html>"
)
# Faults that replace the answer; the others spoil the real one on its way out.
REPLACING = ("reset", "5xx", "html", "non_json")
SPOILING = ("truncate", "stall")


def proxy_page(status: int) -> str:
    title = _PROXY_TITLES[status]
    return (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1>"
        "</center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    )


class Faults:
    """The seeded draw (the same sequence for the same seed and knobs) and the answers."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(f"faults:{seed}")
        self._lock = threading.Lock()

    def roll(self, cfg: SandboxConfig) -> str | None:
        """Which fault this request meets, if any."""
        rates = (
            ("reset", cfg.fault_reset_rate),
            ("5xx", cfg.fault_5xx_rate),
            ("html", cfg.fault_html_rate),
            ("non_json", cfg.fault_non_json_rate),
            ("truncate", cfg.fault_truncate_rate),
            ("stall", cfg.fault_stall_rate),
        )
        if all(rate <= 0 for _, rate in rates):
            return None
        with self._lock:
            r = self._rng.random()
            for kind, rate in rates:
                if r < rate:
                    return kind
                r -= rate
        return None

    def answer(self, kind: str, rl_headers: dict[str, str]) -> Response:
        """The answer a replacing fault gives instead of the tenant's."""
        if kind == "5xx":
            with self._lock:
                status = self._rng.choice((500, 502, 503, 504))
            return json_response(status, STATUS_BODIES[status], rl_headers)
        if kind == "html":  # a proxy answers: no Auth0 JSON, no rate-limit headers
            with self._lock:
                status = self._rng.choice((502, 504))
            return Response(status, proxy_page(status).encode(), "text/html")
        return Response(200, MAINTENANCE_PAGE.encode(), "text/html; charset=utf-8")


@dataclass
class Spoiled:
    """The real answer written wrongly: `keep` bytes of its body, then (after `stall`
    seconds of silence) the connection closes."""

    response: Response
    keep: int
    stall: float = 0.0

    @classmethod
    def of(cls, kind: str, resp: Response, cfg: SandboxConfig) -> Spoiled:
        if kind == "stall":
            return cls(resp, len(resp.body) // 2, cfg.fault_stall_seconds)
        return cls(resp, len(resp.body) * 2 // 3)

    def write(self, handler: BaseHTTPRequestHandler) -> None:
        resp = self.response
        handler.close_connection = True
        try:
            handler.send_response(resp.status)
            handler.send_header("Content-Type", resp.content_type)
            handler.send_header("Content-Length", str(len(resp.body)))
            for name, value in resp.headers.items():
                handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.write(resp.body[: self.keep])
            handler.wfile.flush()
            if self.stall:
                time.sleep(self.stall)
        except OSError:
            pass  # the client gave up first: that is the point
