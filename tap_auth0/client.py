"""The run's one HTTP client (one token, one connection pool, one set of rate schedulers)."""

from __future__ import annotations

import typing as t

from tap_auth0.auth import ClientCredentials, StaticToken
from tap_auth0.http_client import Auth0HTTP

if t.TYPE_CHECKING:
    import logging

    from tap_auth0.settings import Settings


def connect(settings: Settings, logger: logging.Logger) -> Auth0HTTP:
    """One client per run, shared by every stream and worker thread."""
    http = Auth0HTTP(settings, logger=logger)
    if settings.access_token:
        http.tokens = StaticToken(settings.access_token)
    else:
        client_id, client_secret = settings.client_id, settings.client_secret
        assert client_id and client_secret
        http.tokens = ClientCredentials(
            lambda: http.mint_token(
                client_id=client_id, client_secret=client_secret, audience=settings.audience
            ),
            host=http.host,
            on_token=http.register_secret,
        )
    return http
