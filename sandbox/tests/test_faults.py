"""Rate limiting, latency, injected faults, index lag and request statistics."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager

import pytest
import requests
from auth0_sandbox import Sandbox

from tests.support.recorded_bodies import RATE_429
from tests.support.sandbox_instances import TOKEN

Fresh = Callable[..., AbstractContextManager[Sandbox]]


def _session() -> requests.Session:
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {TOKEN}"
    return s


def test_token_bucket_429_and_headers(fresh: Fresh) -> None:
    with fresh(rate_limit_burst=3, rate_limit_per_second=2.0) as sb, _session() as s:
        url = f"{sb.base_url}/api/v2/users"
        got = [s.get(url, params={"per_page": 1}) for _ in range(5)]
        assert [r.status_code for r in got] == [200, 200, 200, 429, 429]
        assert [r.headers["x-ratelimit-remaining"] for r in got] == ["2", "1", "0", "0", "0"]
        assert all(r.headers["x-ratelimit-limit"] == "3" for r in got)
        limited = got[3]
        assert limited.json() == RATE_429
        assert "Retry-After" not in limited.headers
        reset = int(limited.headers["x-ratelimit-reset"])
        assert time.time() - 1 <= reset <= time.time() + 2
        time.sleep(max(0.0, reset - time.time()) + 0.05)
        assert s.get(url, params={"per_page": 1}).status_code == 200
        # admin endpoints are neither limited nor counted
        for _ in range(5):
            assert s.get(f"{sb.base_url}/_sandbox/stats").status_code == 200
        st = sb.stats()
        assert st["rate_limited"] == 2 and st["by_status"]["429"] == 2
        assert st["requests"] == 6 and st["by_endpoint"]["GET /api/v2/users"] == 6


def test_unlimited_still_sends_headers(sb: Sandbox) -> None:
    with _session() as s:
        r = s.get(f"{sb.base_url}/api/v2/users", params={"per_page": 1})
    assert int(r.headers["x-ratelimit-limit"]) >= 1000
    assert int(r.headers["x-ratelimit-remaining"]) >= 1000


def test_latency(sb: Sandbox) -> None:
    sb.configure(latency_ms=150)
    with _session() as s:
        t0 = time.monotonic()
        s.get(f"{sb.base_url}/api/v2/users", params={"per_page": 1})
        assert time.monotonic() - t0 >= 0.15


def test_5xx_faults(sb: Sandbox) -> None:
    sb.reset_stats()
    sb.configure(fault_5xx_rate=1.0)
    with _session() as s:
        codes = set()
        for _ in range(12):
            r = s.get(f"{sb.base_url}/api/v2/users", params={"per_page": 1})
            assert r.status_code >= 500 and r.json()["statusCode"] == r.status_code
            assert "x-ratelimit-limit" in r.headers
            codes.add(r.status_code)
        assert codes <= {500, 502, 503, 504} and len(codes) > 1
    assert sb.stats()["faults_injected"] == 12


def test_connection_reset(sb: Sandbox) -> None:
    sb.configure(fault_reset_rate=1.0)
    with _session() as s, pytest.raises(requests.ConnectionError):
        s.get(f"{sb.base_url}/api/v2/users", params={"per_page": 1})
    sb.configure(fault_reset_rate=0.0)
    with _session() as s:  # the server keeps serving
        assert s.get(f"{sb.base_url}/api/v2/users", params={"per_page": 1}).ok
    assert sb.stats()["by_status"].get("reset", 0) >= 1


def test_faults_are_seeded(fresh: Fresh) -> None:
    seqs = []
    for _ in range(2):
        with fresh(seed=3, fault_5xx_rate=0.5) as sb, _session() as s:
            seqs.append(
                [
                    s.get(f"{sb.base_url}/api/v2/users", params={"per_page": 1}).status_code
                    for _ in range(12)
                ]
            )
    assert seqs[0] == seqs[1] and 200 in seqs[0] and any(c >= 500 for c in seqs[0])


def test_index_lag(fresh: Fresh) -> None:
    with fresh(index_lag_seconds=0.6) as sb, _session() as s:
        url = f"{sb.base_url}/api/v2/users"
        victim = sb.truth()[0]
        uid = victim["user_id"]
        q = {"q": f'user_id:"{uid}"', "search_engine": "v3"}
        changed = sb.update_user(uid, user_metadata={"lag": "new"}, nickname="lagged")
        assert changed["updated_at"] > victim["updated_at"]
        one = s.get(f"{url}/{requests.utils.quote(uid, safe='')}").json()
        assert one["nickname"] == "lagged"  # GET /users/{id} is immediate
        assert s.get(url, params=q).json()[0]["nickname"] == victim["nickname"]  # stale
        assert s.get(url, params={"q": "nickname:lagged"}).json() == []
        created = sb.create_user(email="lagging.new@example.com")
        assert s.get(url, params={"q": 'email:"lagging.new@example.com"'}).json() == []
        sb.delete_user(sb.truth()[5]["user_id"])
        before = len(sb.truth())
        time.sleep(0.7)
        assert s.get(url, params=q).json()[0]["nickname"] == "lagged"
        found = s.get(url, params={"q": 'email:"lagging.new@example.com"'}).json()
        assert [u["user_id"] for u in found] == [created["user_id"]]
        total = s.get(url, params={"include_totals": "true", "per_page": 0}).json()["total"]
        assert total == before


def test_update_sets_ms_updated_at_and_merges_metadata(sb: Sandbox) -> None:
    u = next(x for x in sb.truth() if "user_metadata" in x and x["user_metadata"])
    key = next(iter(u["user_metadata"]))
    out = sb.update_user(u["user_id"], user_metadata={"extra": 1})
    assert out["user_metadata"][key] == u["user_metadata"][key] and out["user_metadata"]["extra"]
    assert len(out["updated_at"]) == 24 and out["updated_at"].endswith("Z")
    out = sb.update_user(u["user_id"], user_metadata={"extra": None}, given_name=None)
    assert "extra" not in out["user_metadata"] and "given_name" not in out


def test_proxy_html_pages(sb: Sandbox) -> None:
    sb.reset_stats()
    sb.configure(fault_html_rate=1.0)
    with _session() as s:
        got = [s.get(f"{sb.base_url}/api/v2/users", params={"per_page": 1}) for _ in range(8)]
    assert {r.status_code for r in got} == {502, 504}
    for r in got:
        assert r.headers["Content-Type"] == "text/html"
        assert f"<title>{r.status_code} " in r.text and "nginx" in r.text
        assert "x-ratelimit-limit" not in r.headers  # the proxy answered, not Auth0
    assert sb.stats()["faults_injected"] == 8


def test_non_json_200(sb: Sandbox) -> None:
    sb.configure(fault_non_json_rate=1.0)
    with _session() as s:
        r = s.get(f"{sb.base_url}/api/v2/users", params={"per_page": 1})
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
    with pytest.raises(ValueError):
        r.json()


def test_truncated_answer(sb: Sandbox) -> None:
    sb.configure(fault_truncate_rate=1.0)
    with _session() as s, pytest.raises(requests.exceptions.ChunkedEncodingError):
        s.get(f"{sb.base_url}/api/v2/users", params={"per_page": 5})
    sb.configure(fault_truncate_rate=0.0)
    with _session() as s:  # the server keeps serving
        assert len(s.get(f"{sb.base_url}/api/v2/users", params={"per_page": 5}).json()) == 5
    assert sb.stats()["by_status"]["truncate"] >= 1


def test_stalled_answer(sb: Sandbox) -> None:
    """Headers and half the body arrive, then nothing: a client's read timeout fires
    mid-body (requests raises a ConnectionError around urllib3's ReadTimeoutError)."""
    sb.configure(fault_stall_rate=1.0, fault_stall_seconds=2.0)
    with _session() as s, pytest.raises(requests.exceptions.ConnectionError, match="timed out"):
        s.get(f"{sb.base_url}/api/v2/users", params={"per_page": 5}, timeout=0.5)
    assert sb.stats()["by_status"]["stall"] == 1


def test_fault_kinds_share_one_seeded_draw(fresh: Fresh) -> None:
    knobs = {"fault_5xx_rate": 0.2, "fault_html_rate": 0.2, "fault_non_json_rate": 0.2}
    seqs = []
    for _ in range(2):
        with fresh(seed=4, **knobs) as sb, _session() as s:
            url = f"{sb.base_url}/api/v2/users"
            got = [s.get(url, params={"per_page": 1}) for _ in range(30)]
            seqs.append([(r.status_code, r.headers["Content-Type"][:9]) for r in got])
    assert seqs[0] == seqs[1]
    assert {ctype for _, ctype in seqs[0]} == {"applicati", "text/html"}
    assert 200 in {code for code, _ in seqs[0]}
