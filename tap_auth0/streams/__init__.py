"""Streams, grouped by Auth0 resource; `registry.STREAMS` lists them all."""

from tap_auth0.streams.registry import STREAMS

__all__ = ["STREAMS"]
