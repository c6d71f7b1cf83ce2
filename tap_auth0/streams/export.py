"""User export jobs: the whole tenant as one gzipped NDJSON file, streamed.

A search pages 100 users per request; an export job returns every user in one file for
a handful of requests. The file is read as it downloads and decompressed incrementally,
so memory does not grow with the tenant. The presigned link lives 60 s and must be
fetched without our Authorization header; an expired link or a cut download re-reads
the job for a fresh link and skips the lines already emitted (the file does not change).
"""

from __future__ import annotations

import logging
import time
import typing as t
import zlib
from urllib.parse import urlsplit

import msgspec
import requests

from tap_auth0.errors import Auth0APIError, ConfigError
from tap_auth0.schemas import load_schema
from tap_auth0.settings import is_loopback

if t.TYPE_CHECKING:
    from tap_auth0.http_client import Auth0HTTP

# Every field of the user schema, so export records have the same shape as search ones.
EXPORT_FIELDS = tuple(load_schema("user")["properties"])
CHUNK = 64 * 1024
DOWNLOAD_ATTEMPTS = 4
MAX_POLL_SECONDS = 30.0


class ExportJob:
    def __init__(
        self,
        http: Auth0HTTP,
        *,
        logger: logging.Logger,
        timeout_seconds: int,
        connection: str | None = None,
        sleep: t.Callable[[float], None] = time.sleep,
        clock: t.Callable[[], float] = time.monotonic,
    ) -> None:
        self.http = http
        self.logger = logger
        self.timeout_seconds = timeout_seconds
        self.connection = connection
        self._sleep = sleep
        self._clock = clock
        self.job_id: str | None = None
        self.requests = 0
        self.downloads = 0
        self.lines = 0
        self._decoder = msgspec.json.Decoder()

    # -- job lifecycle --------------------------------------------------------------------
    def connection_id(self, name: str) -> str:
        found = self.http.get_json("/connections", {"name": name, "fields": "id,name"})
        self.requests += 1
        items = found.get("connections", []) if isinstance(found, dict) else found
        for conn in items or []:
            if isinstance(conn, dict) and conn.get("name") == name:
                return str(conn["id"])
        raise ConfigError(f"Setting 'connection': no connection named {name!r} in this tenant")

    def start(self) -> dict[str, t.Any]:
        body: dict[str, t.Any] = {
            "format": "json",
            "fields": [{"name": f} for f in EXPORT_FIELDS],
        }
        if self.connection:
            body["connection_id"] = self.connection_id(self.connection)
        job = self.http.post_json("/jobs/users-exports", body)
        self.requests += 1
        if not isinstance(job, dict) or not job.get("id"):
            raise Auth0APIError("POST /api/v2/jobs/users-exports answered without a job id")
        self.job_id = str(job["id"])
        self.logger.info(
            "Export job %s created (%s)", self.job_id, job.get("connection") or "all connections"
        )
        return job

    def read(self) -> dict[str, t.Any]:
        assert self.job_id
        job = self.http.get_json(f"/jobs/{self.job_id}", bucket="/jobs/{id}")
        self.requests += 1
        if not isinstance(job, dict):
            raise Auth0APIError(f"GET /api/v2/jobs/{self.job_id} answered no job object")
        return job

    def wait(self) -> dict[str, t.Any]:
        """Poll as the job says (time_left_seconds) until completed; fail on 'failed'."""
        deadline = self._clock() + self.timeout_seconds
        delay = 1.0
        while True:
            job = self.read()
            status = job.get("status")
            if status == "completed" and job.get("location"):
                self.logger.info("Export job %s completed", self.job_id)
                return job
            if status == "failed":
                detail = (
                    job.get("summary")
                    or job.get("status_details")
                    or job.get("message")
                    or "no details given"
                )
                if isinstance(detail, dict):
                    detail = msgspec.json.encode(detail).decode()
                raise Auth0APIError(f"Export job {self.job_id} failed: {detail}")
            left = job.get("time_left_seconds")
            done = job.get("percentage_done")
            self.logger.info(
                "Export job %s: %s%% done%s",
                self.job_id,
                done if done is not None else "?",
                f", about {left} s left" if left is not None else "",
            )
            if isinstance(left, int | float) and left > 0:
                delay = min(float(left), MAX_POLL_SECONDS)
            else:
                delay = min(delay * 2, MAX_POLL_SECONDS)
            remaining = deadline - self._clock()
            if remaining <= 0:
                raise Auth0APIError(
                    f"Export job {self.job_id} did not complete within "
                    f"export_timeout_seconds={self.timeout_seconds} (last seen: "
                    f"{done if done is not None else '?'}% done); raise 'export_timeout_seconds'"
                )
            self._sleep(min(delay, remaining))

    # -- download ---------------------------------------------------------------------------
    def records(self) -> t.Iterator[dict[str, t.Any]]:
        """Every user in the file, streamed; resumes a cut download past emitted lines."""
        self.start()
        job = self.wait()
        emitted = 0
        last_error = ""
        for attempt in range(1, DOWNLOAD_ATTEMPTS + 1):
            if attempt > 1:
                job = self.read()  # a fresh presigned link
                if not job.get("location"):
                    raise Auth0APIError(f"Export job {self.job_id} no longer has a file")
            try:
                for index, record in enumerate(self._stream(str(job["location"]))):
                    if index < emitted:
                        continue  # already emitted before the download was cut
                    emitted += 1
                    yield record
                self.lines = emitted
                return
            except _RetryDownload as exc:
                last_error = str(exc)
                self.logger.warning(
                    "Export %s: %s after %d records; fetching a fresh link (attempt %d/%d)",
                    self.job_id,
                    last_error,
                    emitted,
                    attempt,
                    DOWNLOAD_ATTEMPTS,
                )
        raise Auth0APIError(
            f"Export job {self.job_id}: download failed {DOWNLOAD_ATTEMPTS} times "
            f"({last_error}) after {emitted} records"
        )

    def _stream(self, url: str) -> t.Iterator[dict[str, t.Any]]:
        parts = urlsplit(url)
        if parts.scheme != "https" and not is_loopback(parts.hostname or ""):
            raise Auth0APIError(f"Export link is not https: {parts.scheme}://{parts.hostname}")
        self.downloads += 1
        # A fresh session: no Authorization header, no cookies, nothing of the API's. The
        # signed link is a credential for 60 s: keep urllib3's DEBUG line from logging it.
        pool_log = logging.getLogger("urllib3.connectionpool")
        level = pool_log.level
        pool_log.setLevel(max(level, logging.INFO))
        try:
            yield from self._download(url)
        finally:
            pool_log.setLevel(level)

    def _download(self, url: str) -> t.Iterator[dict[str, t.Any]]:
        with requests.Session() as session:
            try:
                resp = session.get(
                    url,
                    stream=True,
                    timeout=self.http.timeout,
                    allow_redirects=False,
                    headers={"Accept-Encoding": "identity"},
                )
            except requests.exceptions.RequestException as exc:
                raise _RetryDownload(f"download failed ({type(exc).__name__})") from None
            with resp:
                if resp.status_code in (400, 403, 404):
                    raise _RetryDownload(
                        f"download link refused ({resp.status_code}: "
                        f"{' '.join(resp.text.split())[:120]})"
                    )
                if resp.status_code >= 300:
                    raise _RetryDownload(f"download answered {resp.status_code}")
                yield from self._decode(resp)

    def _decode(self, resp: requests.Response) -> t.Iterator[dict[str, t.Any]]:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        pending = b""
        try:
            for chunk in resp.raw.stream(CHUNK, decode_content=False):
                try:
                    data = inflater.decompress(chunk)
                except zlib.error as exc:
                    raise _RetryDownload(f"corrupt gzip ({exc})") from None
                if not data:
                    continue
                pending += data
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    if line.strip():
                        yield self._parse(line)
        except (requests.exceptions.RequestException, OSError) as exc:
            raise _RetryDownload(f"download interrupted ({type(exc).__name__})") from None
        except Exception as exc:  # urllib3 protocol errors on a cut connection
            if type(exc).__module__.startswith("urllib3"):
                raise _RetryDownload(f"download interrupted ({type(exc).__name__})") from None
            raise
        if not inflater.eof:
            raise _RetryDownload("the file is truncated (gzip stream ended early)")
        pending += inflater.flush()
        if pending.strip():
            yield self._parse(pending)

    def _parse(self, line: bytes) -> dict[str, t.Any]:
        try:
            record = self._decoder.decode(line)
        except msgspec.DecodeError:
            raise _RetryDownload("a line of the file is not JSON") from None
        if not isinstance(record, dict) or "user_id" not in record:
            raise Auth0APIError(
                f"Export job {self.job_id}: a line has no user_id; was the job made with "
                "format=json and the user_id field?"
            )
        return record


class _RetryDownload(Exception):
    """The download failed in a way a fresh link may fix."""


__all__ = ["EXPORT_FIELDS", "ExportJob"]
