"""Export mode against the sandbox: same records as search, failures, links, auto, batch."""

from __future__ import annotations

import gzip
import json
import time
from pathlib import Path

import pytest
from auth0_sandbox import Sandbox, SandboxConfig

from tap_auth0.errors import Auth0APIError, ConfigError
from tap_auth0.streams.users.export import ExportJob
from tests.support.cli import run_cli
from tests.support.messages import last_state, records
from tests.support.tap import catalog_selecting, run_inprocess

CREDS = {"access_token": "T", "client_id": "ID", "client_secret": "S"}


def conf(sb: Sandbox, **extra) -> dict:
    return {"domain": sb.base_url, "tenant": "sandbox", "access_token": "T", **extra}


@pytest.fixture(scope="module")
def sb():
    with Sandbox(SandboxConfig(users=2500, seed=21, export_seconds=1.0, **CREDS)) as box:
        yield box


def test_export_records_equal_search_records(sb):
    exp_conf = conf(sb, users_extraction="export")
    exported = run_inprocess(exp_conf, catalog=catalog_selecting(exp_conf, {"users"}))
    searched = run_inprocess(conf(sb), catalog=catalog_selecting(conf(sb), {"users"}))
    by_export = {r["user_id"]: r for r in records(exported, "users")}
    by_search = {r["user_id"]: r for r in records(searched, "users")}
    assert len(by_export) == len(by_search) == 2500
    assert by_export == by_search, "a warehouse table must not change with the mode"
    kinds = [m["type"] for m in exported]
    assert kinds.count("ACTIVATE_VERSION") == 1
    assert kinds.index("ACTIVATE_VERSION") > max(i for i, k in enumerate(kinds) if k == "RECORD"), (
        "ACTIVATE_VERSION only after the last record: a cut export deletes nothing"
    )
    version = next(m["version"] for m in exported if m["type"] == "ACTIVATE_VERSION")
    assert all(m.get("version") == version for m in exported if m["type"] == "RECORD")


def test_export_bookmark_lets_search_continue(sb):
    config = conf(sb, users_extraction="auto", auto_export_threshold=100)
    catalog = catalog_selecting(config, {"users", "user_detail"})
    sb.reset_stats()
    first = run_inprocess(config, catalog=catalog)
    stats = sb.stats()["by_endpoint"]
    assert stats.get("POST /api/v2/jobs/users-exports") == 1, "auto: export for a first sync"
    assert len(records(first, "user_detail")) == len(sb.truth()), "user_detail under export"
    ids = sorted(u["user_id"] for u in sb.truth())
    sb.update_user(ids[3], app_metadata={"tier": "gold"})
    sb.reset_stats()
    second = run_inprocess(config, state=last_state(first), catalog=catalog)
    assert "POST /api/v2/jobs/users-exports" not in sb.stats()["by_endpoint"]
    assert {u["user_id"] for u in records(second, "users")} == {ids[3]}


def test_auto_picks_search_for_small_tenants_and_unexportable_settings(sb):
    for extra in ({"auto_export_threshold": 10**6}, {"search_query": "blocked:true"}):
        config = conf(sb, users_extraction="auto", **extra)
        sb.reset_stats()
        run_inprocess(config, catalog=catalog_selecting(config, {"users"}))
        assert "POST /api/v2/jobs/users-exports" not in sb.stats()["by_endpoint"]


@pytest.mark.parametrize("setting", ["search_query", "fields", "start_date"])
def test_export_refuses_settings_it_cannot_honour(sb, setting):
    value = {"search_query": "x:y", "fields": "email", "start_date": "2024-01-01"}[setting]
    proc = run_cli(conf(sb, users_extraction="export", **{setting: value}))
    assert proc.returncode == 2
    assert f"Setting '{setting}' cannot be honoured by users_extraction=export" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_connection_is_honoured_by_connection_id(sb):
    config = conf(sb, users_extraction="export", connection="google-oauth2")
    msgs = run_inprocess(config, catalog=catalog_selecting(config, {"users"}))
    got = {r["user_id"] for r in records(msgs, "users")}
    want = {
        u["user_id"]
        for u in sb.truth()
        if u["identities"] and u["identities"][0]["connection"] == "google-oauth2"
    }
    assert got == want and got


def test_failed_job_is_reported_with_auth0s_summary():
    with Sandbox(
        SandboxConfig(users=50, seed=2, export_seconds=0.2, export_fail=True, **CREDS)
    ) as box:
        proc = run_cli(conf(box, users_extraction="export"))
        assert proc.returncode == 4
        last = proc.stderr.strip().splitlines()[-1]
        assert last.startswith("tap-auth0: error: Export job job_")
        assert "failed: The export job failed" in last
        assert "ACTIVATE_VERSION" not in proc.stdout


def test_expired_link_is_renewed_by_rereading_the_job(sb, monkeypatch):
    sb.configure(link_ttl_seconds=0.3)
    original = ExportJob.wait

    def slow_wait(self):
        job = original(self)
        time.sleep(2.6)  # the 0.3 s link (whole-second expiry) has expired by now
        return job

    monkeypatch.setattr(ExportJob, "wait", slow_wait)
    try:
        config = conf(sb, users_extraction="export")
        sb.reset_stats()
        msgs = run_inprocess(config, catalog=catalog_selecting(config, {"users"}))
    finally:
        sb.configure(link_ttl_seconds=60.0)
    assert len(records(msgs, "users")) == 2500
    stats = sb.stats()
    assert stats["by_endpoint"]["GET /_downloads"] == 2, "first link expired, second worked"


def test_truncated_download_resumes_past_emitted_lines(monkeypatch):
    with Sandbox(
        SandboxConfig(users=3000, seed=4, export_seconds=0.2, export_truncate=True, **CREDS)
    ) as box:
        original = ExportJob._stream
        calls = {"n": 0}

        def stream(self, url):
            calls["n"] += 1
            if calls["n"] == 2:  # the file is whole from the second download on
                for job in box.exports.jobs.values():
                    job.truncate = False
            yield from original(self, url)

        monkeypatch.setattr(ExportJob, "_stream", stream)
        config = conf(box, users_extraction="export")
        msgs = run_inprocess(config, catalog=catalog_selecting(config, {"users"}))
        ids = [r["user_id"] for r in records(msgs, "users")]
        assert len(ids) == len(set(ids)) == 3000, "no loss, no duplicate after the resume"
        assert calls["n"] == 2
        assert any(m["type"] == "ACTIVATE_VERSION" for m in msgs)


def test_always_truncated_download_fails_without_activate_version():
    with Sandbox(
        SandboxConfig(users=500, seed=4, export_seconds=0.2, export_truncate=True, **CREDS)
    ) as box:
        proc = run_cli(conf(box, users_extraction="export"), timeout=120)
        assert proc.returncode == 4
        assert "download failed 4 times (the file is truncated" in proc.stderr
        assert "ACTIVATE_VERSION" not in proc.stdout
        states = [json.loads(x) for x in proc.stdout.splitlines() if '"STATE"' in x]
        for st in states:
            assert "replication_key_value" not in json.dumps(st), "no bookmark from a cut export"


def test_download_never_carries_the_authorization_header(requests_mock):
    import logging

    from tap_auth0.http_client import connect
    from tap_auth0.settings import parse_settings

    http = connect(
        parse_settings({"domain": "acme.us.auth0.com", "access_token": "tok"}), logging.getLogger()
    )
    api = "https://acme.us.auth0.com/api/v2"
    rl = {"x-ratelimit-limit": "50", "x-ratelimit-remaining": "40", "x-ratelimit-reset": "0"}
    requests_mock.post(
        f"{api}/jobs/users-exports", json={"id": "job_1", "status": "pending"}, headers=rl
    )
    requests_mock.get(
        f"{api}/jobs/job_1",
        json={"id": "job_1", "status": "completed", "location": "https://s3.example/t.json.gz?X=1"},
        headers=rl,
    )
    body = gzip.compress(b'{"user_id":"auth0|1"}\n{"user_id":"auth0|2"}\n')
    dl = requests_mock.get("https://s3.example/t.json.gz?X=1", content=body)
    job = ExportJob(http, logger=logging.getLogger(), timeout_seconds=60)
    assert [r["user_id"] for r in job.records()] == ["auth0|1", "auth0|2"]
    assert "Authorization" not in dl.last_request.headers
    jobs_req = [r for r in requests_mock.request_history if "/jobs/" in r.url]
    assert all(r.headers["Authorization"] == "Bearer tok" for r in jobs_req)


def test_batch_messages_for_users(sb, tmp_path: Path):
    config = conf(
        sb,
        batch_config={
            "encoding": {"format": "jsonl", "compression": "gzip"},
            "storage": {"root": f"file://{tmp_path}", "prefix": "users-"},
        },
    )
    msgs = run_inprocess(config, catalog=catalog_selecting(config, {"users"}))
    batches = [m for m in msgs if m["type"] == "BATCH"]
    assert batches and not records(msgs, "users")
    seen = []
    for b in batches:
        assert b["encoding"] == {"format": "jsonl", "compression": "gzip"}
        for url in b["manifest"]:
            with gzip.open(url.removeprefix("file://"), "rt") as fh:
                seen += [json.loads(line)["user_id"] for line in fh]
    assert sorted(seen) == sorted(u["user_id"] for u in sb.truth())
    assert last_state(msgs)["bookmarks"]["users"]["replication_key_value"]


def test_export_job_timeout_names_the_setting():
    with Sandbox(SandboxConfig(users=20, seed=1, export_seconds=30, **CREDS)) as box:
        import logging

        from tap_auth0.http_client import connect
        from tap_auth0.settings import parse_settings

        http = connect(parse_settings(conf(box)), logging.getLogger())
        job = ExportJob(
            http,
            logger=logging.getLogger(),
            timeout_seconds=1,
            sleep=lambda s: time.sleep(min(s, 0.2)),
        )
        with pytest.raises(Auth0APIError, match="raise 'export_timeout_seconds'"):
            list(job.records())


def test_unknown_connection_is_a_config_error(sb):
    config = conf(sb, users_extraction="export", connection="nope")
    with pytest.raises(ConfigError, match="no connection named 'nope'"):
        run_inprocess(config, catalog=catalog_selecting(config, {"users"}))


def test_signed_download_link_stays_out_of_debug_logs(sb):
    proc = run_cli(
        conf(sb, users_extraction="export"), env={"TAP_AUTH0_LOGLEVEL": "DEBUG"}, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-1500:]
    assert "DEBUG" in proc.stderr
    assert "Signature=" not in proc.stderr and "Signature=" not in proc.stdout
