"""``/_sandbox/*``: the SandboxState test API over HTTP, for shell scripts and Meltano runs.

No auth, no rate limit, not counted in stats - it must never disturb what a test measures.
Changes that stand for an admin's Management API call (users, roles, organizations) still log
that call's ``sapi`` event, so a change-capture reader of the tenant log sees them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from .messages import Request, Response, json_response
from .store import UserExists

if TYPE_CHECKING:
    from .state import SandboxState


def _body(req: Request) -> dict[str, Any]:
    try:
        data = req.json()
    except ValueError:
        raise _Bad("body must be JSON") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise _Bad("body must be a JSON object")
    return data


class _Bad(Exception):
    pass


def handle(sb: SandboxState, req: Request) -> Response:
    try:
        return _route(sb, req)
    except _Bad as exc:
        return json_response(400, {"error": str(exc)})
    except ValueError as exc:
        return json_response(400, {"error": str(exc)})


def _route(sb: SandboxState, req: Request) -> Response:
    parts = req.path.split("/")[2:]  # after "", "_sandbox"
    m = req.method
    if m == "GET" and parts == ["truth"]:
        return json_response(200, sb.truth())
    if m == "GET" and parts == ["stats"]:
        return json_response(200, sb.stats())
    if m == "POST" and parts == ["stats", "reset"]:
        sb.reset_stats()
        return json_response(200, sb.stats())
    if m == "GET" and parts == ["config"]:
        return json_response(200, sb.config.to_dict())
    if m == "POST" and parts == ["configure"]:
        return json_response(200, sb.configure(**_body(req)))
    if m == "GET" and parts == ["planted-secrets"]:
        return json_response(200, {"secrets": sb.planted_secrets()})
    if m == "POST" and parts == ["expire-tokens"]:
        return json_response(200, {"expired": sb.expire_tokens()})
    if m == "POST" and parts == ["touch"]:
        try:
            count = int(req.query.get("count", "1"))
            seed = int(req.query.get("seed", "0"))
        except ValueError:
            raise _Bad("count and seed must be integers") from None
        return json_response(200, {"user_ids": sb.touch(count, seed)})
    if parts == ["users"] and m == "POST":
        try:
            return json_response(201, sb.create_user(**_body(req)))
        except UserExists as exc:
            return json_response(409, {"error": str(exc)})
    if m == "POST" and len(parts) == 3 and parts[0] == "users" and parts[2] == "enroll":
        uid = unquote(parts[1])
        kind = str(_body(req).get("type", "totp"))
        try:
            return json_response(201, sb.enroll(uid, kind))
        except KeyError:
            return json_response(404, {"error": f"no user {uid}"})
    if len(parts) == 2 and parts[0] == "users" and parts[1]:
        uid = unquote(parts[1])
        if m == "GET":
            doc = sb.store.get(uid)
            return json_response(200, doc) if doc else json_response(404, {"error": "no user"})
        if m == "PATCH":
            try:
                return json_response(200, sb.update_user(uid, **_body(req)))
            except KeyError:
                return json_response(404, {"error": f"no user {uid}"})
        if m == "DELETE":
            if sb.delete_user(uid):
                return Response(204)
            return json_response(404, {"error": f"no user {uid}"})
    if parts[:1] in (["logs"], ["logs-truth"], ["stats-truth"]):
        return _logs(sb, req, parts)
    if parts[:1] in (["roles"], ["organizations"], ["tenant-truth"]):
        return _directory(sb, req, parts)
    if m == "GET" and parts == ["health"]:
        return json_response(
            200,
            {
                "ok": True,
                "users": len(sb.store.primary),
                "base_url": sb.base_url,
                "audience": sb.audience,
            },
        )
    return json_response(404, {"error": f"unknown admin endpoint {m} {req.path}"})


def _ids(body: dict[str, Any], key: str) -> list[str]:
    ids = body.get(key)
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise _Bad(f'body must be {{"{key}": [ids]}}')
    return ids


def _directory(sb: SandboxState, req: Request, parts: list[str]) -> Response:
    """tenant-truth, roles and organizations (Auth0's body names: users/members/roles)."""
    m, n = req.method, len(parts)
    ids = [unquote(p) for p in parts]
    try:
        if m == "GET" and parts == ["tenant-truth"]:
            return json_response(200, sb.tenant_truth())
        if m == "POST" and parts == ["roles"]:
            return json_response(201, sb.create_role(**_body(req)))
        if m == "DELETE" and n == 2 and parts[0] == "roles":
            ok = sb.delete_role(ids[1])
            return Response(204) if ok else json_response(404, {"error": f"no role {ids[1]}"})
        if m == "POST" and n == 3 and parts[0] == "roles" and parts[2] == "users":
            added = sb.add_role_users(ids[1], _ids(_body(req), "users"))
            return json_response(200, {"added": added})
        if m == "POST" and parts == ["organizations"]:
            return json_response(201, sb.create_organization(**_body(req)))
        if m == "DELETE" and n == 2 and parts[0] == "organizations":
            ok = sb.delete_organization(ids[1])
            return Response(204) if ok else json_response(404, {"error": f"no org {ids[1]}"})
        if m == "POST" and n == 3 and parts[0] == "organizations" and parts[2] == "members":
            added = sb.change_organization_members(ids[1], _ids(_body(req), "members"), add=True)
            return json_response(200, {"added": added})
        if m == "POST" and n == 5 and parts[0] == "organizations" and parts[4] == "roles":
            roles = sb.change_member_roles(ids[1], ids[3], _ids(_body(req), "roles"), add=True)
            return json_response(200, {"roles": roles})
    except KeyError as exc:
        return json_response(404, {"error": f"unknown id {exc.args[0]}"})
    except TypeError as exc:
        raise _Bad(str(exc)) from None
    return json_response(404, {"error": f"unknown admin endpoint {m} {req.path}"})


def _logs(sb: SandboxState, req: Request, parts: list[str]) -> Response:
    """logs-truth, stats-truth, POST logs?count=N&late=F&seed=S, POST logs/expire?before=T."""
    m, q = req.method, req.query
    if m == "GET" and parts == ["logs-truth"]:
        return json_response(200, sb.logs_truth())
    if m == "GET" and parts == ["stats-truth"]:
        return json_response(200, sb.stats_truth())
    if m == "POST" and parts == ["logs"]:
        try:
            count = int(q.get("count", "1"))
            late = float(q.get("late", "0.03"))
            seed = int(q["seed"]) if q.get("seed") else None
        except ValueError:
            raise _Bad("count and seed must be integers, late a number") from None
        return json_response(200, {"log_ids": sb.append_logs(count, late, seed)})
    if m == "POST" and parts == ["logs", "expire"]:
        before = q.get("before")
        if not before:
            raise _Bad("before=<ISO 8601 instant> is required")
        return json_response(200, {"expired": sb.expire_logs_before(before)})
    return json_response(404, {"error": f"unknown admin endpoint {m} {req.path}"})
