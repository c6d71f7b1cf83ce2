"""A local, stdlib-only imitation of the Auth0 Management API parts tap-auth0 uses.

Start one in-process::

    from auth0_sandbox import Sandbox, SandboxConfig
    with Sandbox(SandboxConfig(users=5000, seed=1, access_token="T")) as sb:
        requests.get(f"{sb.base_url}/api/v2/users", headers={"Authorization": "Bearer T"})

or out-of-process with the ``tap-auth0-sandbox`` console script (see ``cli.py``). It serves
``POST /oauth/token``, ``GET /api/v2/users`` (Lucene ``q``, paging cap, sort, fields),
``GET /api/v2/users/{id}``, ``GET /api/v2/users-by-email``, ``GET /api/v2/connections``,
user export jobs with presigned gzip downloads, roles (permissions, users) and organizations
(members with their roles, enabled connections, invitations) with offset and checkpoint
paging, applications, client and user grants, connection options and clients, resource
servers, actions, log streams and users' permissions, MFA enrolments, sessions and refresh
tokens (with planted secrets, ``Sandbox.planted_secrets``), tenant logs (checkpoint and
search, late arrivals, retention) with daily stats and active users, and ``/_sandbox/*`` admin
endpoints; it can inject rate limits (one bucket, or Auth0's per-endpoint-family buckets by
plan), latency, 5xx/connection resets and search-index lag.
"""

from .config import SandboxConfig
from .lucene import QueryError, parse
from .server import Sandbox

__all__ = ["QueryError", "Sandbox", "SandboxConfig", "parse"]
