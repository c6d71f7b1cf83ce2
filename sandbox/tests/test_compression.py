"""Answers are gzipped when the request accepts it, as Auth0's are (go-auth0's recordings:
`uncompressed: true`), and the `compress` knob turns it off."""

from __future__ import annotations

import gzip
import http.client
import json

import pytest
from auth0_sandbox import Sandbox
from auth0_sandbox.cli import build_parser

from tests.support.sandbox_instances import TOKEN


def raw_get(
    sb: Sandbox, paths: list[str], accept_encoding: str | None
) -> list[tuple[int, dict[str, str], bytes]]:
    """GET each path on one keep-alive connection; status, headers and the bytes as sent."""
    conn = http.client.HTTPConnection(sb.config.host, sb.port, timeout=10)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    if accept_encoding is not None:
        headers["Accept-Encoding"] = accept_encoding
    out = []
    try:
        for path in paths:
            conn.request("GET", path, headers=headers)
            resp = conn.getresponse()
            out.append((resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()))
    finally:
        conn.close()
    return out


PAGE = "/api/v2/users?per_page=100&page=0&include_totals=true"


def test_gzip_when_accepted_with_its_own_content_length(sb):
    # Two answers on one connection: a wrong Content-Length would garble the second.
    zipped = raw_get(sb, [PAGE, "/api/v2/roles"], "gzip, deflate")
    (plain_page, plain_headers, plain_body), _ = raw_get(sb, [PAGE, "/api/v2/roles"], None)
    for status, headers, body in zipped:
        assert status == 200
        assert headers["content-encoding"] == "gzip"
        assert int(headers["content-length"]) == len(body)
        assert headers["content-type"].startswith("application/json")
    assert json.loads(gzip.decompress(zipped[0][2])) == json.loads(plain_body)
    assert len(zipped[0][2]) < len(plain_body) / 4, "a page of users compresses well"
    assert "content-encoding" not in plain_headers
    assert int(plain_headers["content-length"]) == len(plain_body)


@pytest.mark.parametrize("accept", [None, "identity", "gzip;q=0", "br", "deflate"])
def test_identity_unless_gzip_is_accepted(sb, accept):
    ((status, headers, body),) = raw_get(sb, [PAGE], accept)
    assert status == 200
    assert "content-encoding" not in headers
    assert json.loads(body)["users"]


def test_errors_are_compressed_too_and_tiny_bodies_are_not(sb):
    """As recorded: a 404 came gzipped; bodies of a few bytes (active users: `1`) did not."""
    missing, tiny = raw_get(
        sb, ["/api/v2/users/auth0%7Cnobody", "/api/v2/stats/active-users"], "gzip"
    )
    assert missing[0] == 404 and missing[1]["content-encoding"] == "gzip"
    assert json.loads(gzip.decompress(missing[2]))["statusCode"] == 404
    assert tiny[0] == 200 and "content-encoding" not in tiny[1]


def test_requests_decompresses_transparently(sb, api, users_url):
    resp = api.get(users_url, params={"per_page": 5})
    assert resp.headers["Content-Encoding"] == "gzip"
    assert len(resp.json()) == 5


def test_compress_knob_and_flag_turn_it_off(sb):
    sb.configure(compress=False)
    ((status, headers, body),) = raw_get(sb, [PAGE], "gzip")
    assert status == 200 and "content-encoding" not in headers
    assert json.loads(body)["users"]
    assert build_parser().parse_args(["--no-compress"]).compress is False
    assert build_parser().parse_args([]).compress is True
