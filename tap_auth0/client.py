"""Base stream: every stream reaches the tenant through one shared, rate-limited client."""

from __future__ import annotations

import typing as t

from singer_sdk.streams import RESTStream

from tap_auth0.auth import ClientCredentials, StaticToken
from tap_auth0.http_client import Auth0HTTP

if t.TYPE_CHECKING:
    import logging

    from tap_auth0.settings import Settings

IDP_TOKEN_KEYS = ("access_token", "refresh_token", "access_token_secret")


def connect(settings: Settings, logger: logging.Logger) -> Auth0HTTP:
    """One client per run: one token, one connection pool, one rate scheduler."""
    http = Auth0HTTP(settings, logger=logger)
    if settings.access_token:
        http.tokens = StaticToken(settings.access_token)
    else:
        assert settings.client_id and settings.client_secret
        http.tokens = ClientCredentials(
            http,
            client_id=settings.client_id,
            client_secret=settings.client_secret,
            audience=settings.audience,
        )
    return http


def drop_idp_tokens(record: dict[str, t.Any]) -> dict[str, t.Any]:
    """IdP tokens are credentials for the user's social/enterprise account: keep them out
    of warehouses unless asked (`include_idp_tokens`)."""
    identities = record.get("identities")
    if isinstance(identities, list):
        for identity in identities:
            if isinstance(identity, dict):
                for key in IDP_TOKEN_KEYS:
                    identity.pop(key, None)
    return record


class Auth0Stream(RESTStream):
    """Owns the base URL, auth, retries and rate limiting for every Auth0 stream."""

    @property
    def settings(self) -> Settings:
        return self._tap.settings  # type: ignore[attr-defined]

    @property
    def http(self) -> Auth0HTTP:
        return self._tap.http  # type: ignore[attr-defined]

    @property
    def url_base(self) -> str:
        return f"{self.settings.base_url}/api/v2"

    def post_process(
        self, row: dict[str, t.Any], context: t.Mapping[str, t.Any] | None = None
    ) -> dict[str, t.Any] | None:
        if not self.settings.include_idp_tokens:
            drop_idp_tokens(row)
        return row
