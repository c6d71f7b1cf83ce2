"""Auth0's error envelope ``{statusCode, error, message, errorCode?}`` as an exception."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any


class ApiError(Exception):
    """Raised anywhere in request handling; the server renders ``body`` as JSON."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(body.get("message", ""))
        self.status = status
        self.body = body


def auth0_error(status: int, message: str, error_code: str | None = None, **extra: Any) -> ApiError:
    """An ApiError shaped like Auth0's (hapi/Boom) responses."""
    body: dict[str, Any] = {
        "statusCode": status,
        "error": HTTPStatus(status).phrase,
        "message": message,
    }
    if error_code is not None:
        body["errorCode"] = error_code
    body.update(extra)
    return ApiError(status, body)


def query_error(detail: str) -> ApiError:
    """Invalid query-string parameter (Auth0: ``invalid_query_string``)."""
    return auth0_error(400, f"Query validation error: {detail}", "invalid_query_string")


def payload_error(detail: str) -> ApiError:
    """Invalid JSON body (Auth0: ``invalid_body``)."""
    return auth0_error(400, f"Payload validation error: {detail}", "invalid_body")
