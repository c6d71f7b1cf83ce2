"""User export jobs (``POST /jobs/users-exports``, ``GET /jobs/{id}``) and their S3-like files.

Auth0 runs the export asynchronously: the job is ``pending`` with ``percentage_done`` /
``time_left_seconds`` for a while, then ``completed`` with a presigned ``location`` that is valid
for a short time (a fresh one on every GET of the job) and must be fetched WITHOUT an
Authorization header. The file is gzipped NDJSON (json) or CSV. We snapshot the users when the
job is created and build the file in a background thread.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import hmac
import io
import json
import math
import re
import secrets
import string
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from .config import SandboxConfig
from .errors import auth0_error, payload_error
from .timeutil import iso_ms, now_ms

DEFAULT_FIELDS = [
    "user_id",
    "email",
    "email_verified",
    "username",
    "phone_number",
    "phone_verified",
    "name",
    "given_name",
    "family_name",
    "nickname",
    "picture",
    "created_at",
    "updated_at",
    "last_login",
    "last_ip",
    "logins_count",
    "blocked",
]
_ALLOWED = {"connection_id", "format", "limit", "fields"}
_FORMAT_DESC = "(Format of the file. Must be `json` or `csv`.)"
_FIELDS_DESC = "(List of fields to be included in the CSV. Defaults to a predefined set of fields.)"
_PART = re.compile(r"^([^\[\]]+)((?:\[\d+\])*)$")


@dataclass
class Job:
    id: str
    created_ms: int
    started: float  # monotonic
    duration: float
    fail: bool
    truncate: bool
    fmt: str
    public: dict[str, Any]
    docs: list[dict[str, Any]]
    columns: list[tuple[str, str]]  # (source path, output name)
    payload: bytes | None = None
    ready: threading.Event = field(default_factory=threading.Event)


def extract(doc: dict[str, Any], path: str) -> tuple[bool, Any]:
    """Value at an export field path like ``identities[0].connection`` (found?, value)."""
    cur: Any = doc
    for part in path.split("."):
        m = _PART.match(part)
        if m is None or not isinstance(cur, dict) or m.group(1) not in cur:
            return False, None
        cur = cur[m.group(1)]
        for idx in re.findall(r"\[(\d+)\]", m.group(2)):
            if not isinstance(cur, list) or int(idx) >= len(cur):
                return False, None
            cur = cur[int(idx)]
    return True, cur


def render(fmt: str, docs: list[dict[str, Any]], columns: list[tuple[str, str]]) -> bytes:
    """The uncompressed export file."""
    if fmt == "json":
        lines = []
        for d in docs:
            row = {}
            for src, out in columns:
                found, value = extract(d, src)
                if found:
                    row[out] = value
            lines.append(json.dumps(row, separators=(",", ":")))
        return ("\n".join(lines) + ("\n" if lines else "")).encode()
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([out for _, out in columns])
    for d in docs:
        row = []
        for src, _ in columns:
            found, value = extract(d, src)
            if not found or value is None:
                row.append("")
            elif isinstance(value, dict | list):
                row.append(json.dumps(value, separators=(",", ":")))
            elif isinstance(value, bool):
                row.append("true" if value else "false")
            else:
                row.append(str(value))
        w.writerow(row)
    return buf.getvalue().encode()


class ExportJobs:
    """Job registry plus presigned-link signing and validation."""

    def __init__(self, cfg: SandboxConfig, connections: list[dict[str, Any]]) -> None:
        self.cfg = cfg
        self.connections = connections
        self.jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._key = secrets.token_bytes(32)

    # -- API ------------------------------------------------------------------------------
    def create(self, body: Any, docs: list[dict[str, Any]]) -> dict[str, Any]:
        """Validate a users-exports request and start the job; returns the job object."""
        if not isinstance(body, dict):
            raise payload_error(f"'Expected type object but found type {_json_type(body)}'")
        extra = sorted(set(body) - _ALLOWED)
        if extra:
            raise payload_error(f"'Additional properties not allowed: {','.join(extra)}'")
        fmt = body.get("format", "csv")
        if fmt not in ("json", "csv"):
            raise payload_error(f"'No enum match for: \"{fmt}\"' on property format {_FORMAT_DESC}")
        limit = body.get("limit")
        if limit is not None and (
            not isinstance(limit, int) or isinstance(limit, bool) or limit < 1
        ):
            raise payload_error(
                "'Expected type integer' on property limit (Limit the number of records.)"
            )
        columns = self._columns(body.get("fields"), fmt)
        conn = None
        if "connection_id" in body:
            conn = next((c for c in self.connections if c["id"] == body["connection_id"]), None)
            if conn is None:
                raise auth0_error(400, "The connection does not exist.", "inexistent_connection")
            docs = [
                d
                for d in docs
                if d.get("identities") and d["identities"][0].get("connection") == conn["name"]
            ]
        if limit is not None:
            docs = docs[:limit]
        job_id = "job_" + "".join(
            secrets.choice(string.ascii_letters + string.digits) for _ in range(16)
        )
        created = now_ms()
        public: dict[str, Any] = {"type": "users_export", "status": "pending"}
        if conn is not None:
            public["connection_id"] = conn["id"]
        public["format"] = fmt
        if limit is not None:
            public["limit"] = limit
        if body.get("fields") is not None:
            public["fields"] = body["fields"]
        if conn is not None:
            public["connection"] = conn["name"]
        public["created_at"] = iso_ms(created)
        public["id"] = job_id
        job = Job(
            job_id,
            created,
            time.monotonic(),
            max(0.0, self.cfg.export_seconds),
            self.cfg.export_fail,
            self.cfg.export_truncate,
            fmt,
            public,
            docs,
            columns,
        )
        with self._lock:
            self.jobs[job_id] = job
        threading.Thread(
            target=self._build, args=(job,), daemon=True, name=f"export-{job_id}"
        ).start()
        return dict(public)

    def status(self, job_id: str, base_url: str) -> dict[str, Any] | None:
        """The job as GET /jobs/{id} shows it now (fresh link when completed)."""
        job = self.jobs.get(job_id)
        if job is None:
            return None
        out = dict(job.public)
        elapsed = time.monotonic() - job.started
        if elapsed < job.duration or not job.ready.is_set():
            frac = min(elapsed / job.duration, 0.99) if job.duration > 0 else 0.99
            out["percentage_done"] = int(frac * 100)
            out["time_left_seconds"] = max(1, math.ceil(job.duration - elapsed))
            return out
        if job.fail:
            out["status"] = "failed"
            out["status_details"] = "The export job failed: an internal error occurred."
            return out
        out["status"] = "completed"
        out["location"] = self.sign(base_url, job)
        return out

    def sign(self, base_url: str, job: Job) -> str:
        expires = math.ceil(time.time() + self.cfg.link_ttl_seconds)
        path = self.path_of(job)
        return f"{base_url}{path}?Expires={expires}&Signature={self._sig(path, expires)}"

    def path_of(self, job: Job) -> str:
        return f"/_downloads/{job.id}/{self.cfg.tenant}.{job.fmt}.gz"

    def check_download(
        self, path: str, query: dict[str, str], has_auth: bool
    ) -> tuple[int, str, Job | None]:
        """Validate a download like S3 would: (status, xml error or "", job)."""
        if has_auth:
            return (
                400,
                _s3_error(
                    "InvalidArgument",
                    "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, "
                    "Signature query string parameter or the Authorization header should be "
                    "specified",
                    ArgumentName="Authorization",
                ),
                None,
            )
        expires, sig = query.get("Expires"), query.get("Signature")
        if not expires or not sig or not expires.isdigit():
            return (
                403,
                _s3_error(
                    "AccessDenied",
                    "Query-string authentication requires the Signature, Expires "
                    "and AWSAccessKeyId parameters",
                ),
                None,
            )
        if not hmac.compare_digest(sig, self._sig(path, int(expires))):
            return (
                403,
                _s3_error(
                    "SignatureDoesNotMatch",
                    "The request signature we calculated does not match "
                    "the signature you provided. Check your key and signing method.",
                ),
                None,
            )
        now = int(time.time())
        if now > int(expires):
            return (
                403,
                _s3_error(
                    "AccessDenied",
                    "Request has expired",
                    Expires=_http_date(int(expires)),
                    ServerTime=_http_date(now),
                ),
                None,
            )
        job_id = path.split("/")[2] if path.count("/") >= 3 else ""
        job = self.jobs.get(job_id)
        if job is None or job.payload is None or path != self.path_of(job):
            return 404, _s3_error("NoSuchKey", "The specified key does not exist."), None
        return 200, "", job

    # -- internals ------------------------------------------------------------------------
    def _columns(self, spec: Any, fmt: str) -> list[tuple[str, str]]:
        if spec is None:
            return [(f, f) for f in DEFAULT_FIELDS]
        if not isinstance(spec, list) or not all(
            isinstance(f, dict)
            and isinstance(f.get("name"), str)
            and set(f) <= {"name", "export_as"}
            for f in spec
        ):
            raise payload_error(
                f"'Expected type array of {{name, export_as?}}' on property fields {_FIELDS_DESC}"
            )
        if fmt == "csv" and len(spec) > 30:
            raise payload_error(
                f"'Array is too long ({len(spec)}), maximum 30' on property fields {_FIELDS_DESC}"
            )
        return [(f["name"], f.get("export_as") or f["name"]) for f in spec]

    def _build(self, job: Job) -> None:
        job.payload = gzip.compress(
            render(job.fmt, job.docs, job.columns), compresslevel=5, mtime=0
        )
        job.docs = []
        job.ready.set()

    def _sig(self, path: str, expires: int) -> str:
        mac = hmac.new(self._key, f"{path}\n{expires}".encode(), hashlib.sha256).hexdigest()
        return mac[:40]


def _json_type(v: Any) -> str:
    return {
        list: "array",
        str: "string",
        int: "integer",
        float: "number",
        bool: "boolean",
        type(None): "null",
    }.get(type(v), "object")


def _http_date(epoch: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def _s3_error(code: str, message: str, **extra: str) -> str:
    parts = [f"<Code>{code}</Code>", f"<Message>{message}</Message>"]
    parts += [f"<{k}>{v}</{k}>" for k, v in extra.items()]
    parts.append(f"<RequestId>{secrets.token_hex(8).upper()}</RequestId>")
    return '<?xml version="1.0" encoding="UTF-8"?>\n<Error>' + "".join(parts) + "</Error>"
