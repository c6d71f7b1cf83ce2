"""Errors the tap reports to users as one line, with an exit code per kind of failure."""

from __future__ import annotations

import logging
import sys

# Exit codes, documented in the README.
EXIT_CONFIG = 2
EXIT_AUTH = 3
EXIT_API = 4
EXIT_NETWORK = 5
# The target stopped reading stdout: what a shell reports for a writer killed by SIGPIPE.
EXIT_TARGET_STOPPED = 141


class TapAuth0Error(Exception):
    """A failure the user can act on: printed as one line without a traceback."""

    exit_code = EXIT_API


class ConfigError(TapAuth0Error):
    """A setting is missing, malformed or contradicts another one."""

    exit_code = EXIT_CONFIG


class AuthError(TapAuth0Error):
    """Credentials were refused, or the token lacks a scope or targets the wrong API."""

    exit_code = EXIT_AUTH


class TokenExpired(AuthError):
    """A pasted `access_token` expired: only a new one (or client credentials) helps, so
    it is not retried."""

    def __init__(self) -> None:
        super().__init__(
            "The Management API token in 'access_token' has expired; paste a new one or "
            "use 'client_id' + 'client_secret' so the tap can renew it"
        )


class ScopeError(AuthError):
    """403 insufficient_scope: the token lacks the scope one endpoint needs. A stream that
    meets it is skipped with a warning; the other streams go on."""

    def __init__(self, message: str, *, scopes: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.scopes = scopes

    @property
    def reason(self) -> str:
        return f"the token lacks {' or '.join(self.scopes) or 'a read scope'}"

    @property
    def short(self) -> str:
        return f"needs {' or '.join(self.scopes) or 'a read scope'}"


class FeatureNotEnabled(ScopeError):
    """403 for a feature the tenant's plan lacks (sessions and refresh tokens need
    Enterprise): skipped like a missing scope."""

    @property
    def reason(self) -> str:
        return "the tenant's plan does not include it"

    @property
    def short(self) -> str:
        return "not in the tenant's plan"


class NetworkError(TapAuth0Error):
    """The tenant could not be reached even after retries."""

    exit_code = EXIT_NETWORK


class Auth0APIError(TapAuth0Error):
    """Auth0 answered with an error that retrying will not fix."""

    exit_code = EXIT_API

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        error_code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error_code = error_code


class RetriesExhausted(TapAuth0Error):
    """Transient failures (5xx, timeouts, 429) outlasted the retry budget."""

    exit_code = EXIT_API


class TargetStopped(SystemExit):
    """The target closed stdout (a broken pipe): nothing more can be delivered, so the run
    stops at once, without retrying and without another STATE. A SystemExit, so that no
    handler for failures (the SDK logs every Exception a stream raises) takes it for one."""

    def __init__(self) -> None:
        super().__init__(EXIT_TARGET_STOPPED)


class OneLineFailures(logging.Filter):
    """Drops the SDK's "An unhandled error occurred while syncing" ERROR line while one of
    these errors unwinds: it is handled, and the console script prints it as the run's one
    error line. (The SDK logs that line from inside its `except`, so the error is at hand.)"""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (
            record.levelno >= logging.ERROR
            and str(record.msg).startswith("An unhandled error occurred")
            and isinstance(sys.exc_info()[1], TapAuth0Error)
        )
