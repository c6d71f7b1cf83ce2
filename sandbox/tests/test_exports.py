"""User export jobs: lifecycle, presigned downloads and their failure modes."""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from auth0_sandbox import Sandbox

from tests.support.sandbox_instances import TOKEN

Fresh = Callable[..., AbstractContextManager[Sandbox]]
FIELDS = [
    {"name": "user_id"},
    {"name": "email"},
    {"name": "updated_at"},
    {"name": "identities"},
    {"name": "app_metadata"},
    {"name": "user_metadata"},
    {"name": "identities[0].connection", "export_as": "connection"},
]


def _api() -> requests.Session:
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {TOKEN}"
    return s


def _wait(sb: Sandbox, s: requests.Session, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        job = s.get(f"{sb.base_url}/api/v2/jobs/{job_id}").json()
        if job["status"] != "pending":
            return job
        time.sleep(0.05)
    raise AssertionError("job never finished")


def _start(sb: Sandbox, s: requests.Session, **body: Any) -> dict[str, Any]:
    r = s.post(f"{sb.base_url}/api/v2/jobs/users-exports", json=body)
    assert r.status_code == 200, r.text
    return r.json()


def test_json_export_lifecycle(fresh: Fresh) -> None:
    with fresh(users=300, export_seconds=0.4) as sb, _api() as s:
        conn = next(c for c in sb.connections if c["name"] == "Username-Password-Authentication")
        job = _start(sb, s, connection_id=conn["id"], format="json", fields=FIELDS)
        pending = s.get(f"{sb.base_url}/api/v2/jobs/{job['id']}").json()
        assert pending["status"] == "pending"
        assert 0 <= pending["percentage_done"] < 100 and pending["time_left_seconds"] >= 1
        done = _wait(sb, s, job["id"])
        assert done["status"] == "completed" and "location" in done
        loc = urlsplit(done["location"])
        assert loc.path.endswith(f"/{sb.config.tenant}.json.gz")
        assert {"Expires", "Signature"} <= set(parse_qs(loc.query))
        r = requests.get(done["location"])
        assert r.status_code == 200 and r.headers["Content-Type"] == "application/gzip"
        rows = [json.loads(line) for line in gzip.decompress(r.content).decode().splitlines()]
        expected = [
            u
            for u in sb.truth()
            if u["identities"][0]["connection"] == "Username-Password-Authentication"
        ]
        assert sorted(x["user_id"] for x in rows) == sorted(u["user_id"] for u in expected)
        by_id = {u["user_id"]: u for u in expected}
        for row in rows:
            u = by_id[row["user_id"]]
            assert row["identities"] == u["identities"]
            assert row.get("app_metadata") == u.get("app_metadata")
            assert row.get("user_metadata") == u.get("user_metadata")
            assert row["connection"] == "Username-Password-Authentication"
        # every GET of the job hands out a working link
        again = s.get(f"{sb.base_url}/api/v2/jobs/{job['id']}").json()
        assert requests.get(again["location"]).status_code == 200


def test_download_refuses_authorization_header_and_bad_signature(fresh: Fresh) -> None:
    with fresh(export_seconds=0) as sb, _api() as s:
        done = _wait(sb, s, _start(sb, s, format="json", limit=3)["id"])
        r = s.get(done["location"])  # the session sends Authorization
        assert r.status_code == 400
        assert "<Code>InvalidArgument</Code>" in r.text and "Authorization" in r.text
        tampered = done["location"].replace("Signature=", "Signature=0")
        r = requests.get(tampered)
        assert r.status_code == 403 and "<Code>SignatureDoesNotMatch</Code>" in r.text
        rows = gzip.decompress(requests.get(done["location"]).content).decode().splitlines()
        assert len(rows) == 3


def test_expired_link(fresh: Fresh) -> None:
    with fresh(export_seconds=0, link_ttl_seconds=0) as sb, _api() as s:
        done = _wait(sb, s, _start(sb, s, format="json")["id"])
        expires = int(parse_qs(urlsplit(done["location"]).query)["Expires"][0])
        time.sleep(max(0.0, expires + 1 - time.time()))
        r = requests.get(done["location"])
        assert r.status_code == 403
        assert "<Code>AccessDenied</Code>" in r.text and "Request has expired" in r.text


def test_failed_job(fresh: Fresh) -> None:
    with fresh(export_seconds=0.1, export_fail=True) as sb, _api() as s:
        done = _wait(sb, s, _start(sb, s, format="json")["id"])
        assert done["status"] == "failed" and "location" not in done
        assert done["status_details"]


def test_truncated_download(fresh: Fresh) -> None:
    with fresh(export_seconds=0, export_truncate=True) as sb, _api() as s:
        done = _wait(sb, s, _start(sb, s, format="json")["id"])
        body = requests.get(done["location"]).content
        with pytest.raises(EOFError):
            gzip.decompress(body)


def test_csv_default_fields(fresh: Fresh) -> None:
    with fresh(users=50, export_seconds=0) as sb, _api() as s:
        job = _start(sb, s)
        assert job["format"] == "csv" and "connection_id" not in job
        done = _wait(sb, s, job["id"])
        assert done["location"].split("?")[0].endswith(".csv.gz")
        lines = gzip.decompress(requests.get(done["location"]).content).decode().splitlines()
        assert lines[0].startswith("user_id,email,email_verified")
        assert len(lines) == 51


def test_export_validation(sb: Sandbox) -> None:
    with _api() as s:
        url = f"{sb.base_url}/api/v2/jobs/users-exports"
        r = s.post(url, json={"connection_id": "con_doesnotexist00"})
        assert r.status_code == 400 and r.json()["message"] == "The connection does not exist."
        r = s.post(url, json={"format": "xml"})
        assert r.status_code == 400 and r.json()["errorCode"] == "invalid_body"
        r = s.post(url, json={"fields": [{"name": f"f{i}"} for i in range(31)]})
        assert r.status_code == 400
        r = s.get(f"{sb.base_url}/api/v2/jobs/job_nope")
        assert r.status_code == 404 and r.json()["statusCode"] == 404
