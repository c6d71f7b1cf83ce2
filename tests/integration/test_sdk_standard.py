"""The Singer SDK's standard tap tests, against a sandbox started for this module."""

from __future__ import annotations

import atexit

from auth0_sandbox import Sandbox, SandboxConfig
from singer_sdk.testing import SuiteConfig, get_tap_test_class

from tap_auth0.tap import TapAuth0

# The SDK builds its test class at import time, so the sandbox must exist by then.
_SANDBOX = Sandbox(
    SandboxConfig(users=400, seed=13, client_id="ID", client_secret="S", logs=300, log_days=3)
)
_SANDBOX.start()
atexit.register(_SANDBOX.stop)

_CONFIG = {
    "domain": _SANDBOX.base_url,
    "tenant": "sandbox",
    "client_id": "ID",
    "client_secret": "S",
    "start_date": "2020-01-01T00:00:00Z",
}


def _everything_selected() -> dict:
    """The discovered catalog with every stream selected, the opt-in per-user ones too."""
    catalog = TapAuth0(config=_CONFIG).catalog_dict
    for entry in catalog["streams"]:
        for md in entry["metadata"]:
            md["metadata"]["selected"] = True
    return catalog


TestTapAuth0 = get_tap_test_class(
    TapAuth0,
    config=_CONFIG,
    catalog=_everything_selected(),
    suite_config=SuiteConfig(max_records_limit=250),
)
