"""``tap-auth0-sandbox``: run the sandbox as a process (for shell scripts and Meltano runs).

The first stdout line is always ``Sandbox listening on http://127.0.0.1:PORT`` so a wrapper can
read the URL; ``--ready-file`` additionally writes the base URL to a file once listening.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from dataclasses import fields

from .config import EXPIRED_FROM, HELP, RATE_LIMIT_PROFILES, SandboxConfig
from .server import Sandbox


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


CHOICES = {"rate_limit_profile": RATE_LIMIT_PROFILES, "expired_from": EXPIRED_FROM}


def build_parser() -> argparse.ArgumentParser:
    """One flag per SandboxConfig field (``--rate-limit-burst`` etc.)."""
    p = argparse.ArgumentParser(
        prog="tap-auth0-sandbox", description="Local Auth0 Management API sandbox."
    )
    defaults = SandboxConfig()
    for f in fields(SandboxConfig):
        default = getattr(defaults, f.name)
        if isinstance(default, bool):
            p.add_argument(
                _flag(f.name),
                dest=f.name,
                action=argparse.BooleanOptionalAction,
                default=default,
                help=HELP.get(f.name),
            )
        else:
            kind = float if isinstance(default, float) else int if isinstance(default, int) else str
            p.add_argument(
                _flag(f.name),
                dest=f.name,
                type=kind,
                default=default,
                choices=CHOICES.get(f.name),
                metavar=f.name.upper(),
                help=f"{HELP.get(f.name, '')} (default: {default})",
            )
    p.add_argument(
        "--ready-file", default=None, help="write the base URL to this file once listening"
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    cfg = SandboxConfig(**{f.name: getattr(args, f.name) for f in fields(SandboxConfig)})
    stop = threading.Event()
    sb = Sandbox(cfg).start()
    try:
        print(f"Sandbox listening on {sb.base_url}", flush=True)
        print(f"  token endpoint: {sb.base_url}/oauth/token")
        print(f"  client_id:      {cfg.client_id}")
        print(f"  client_secret:  {cfg.client_secret}")
        print(f"  audience:       {sb.audience}")
        print(f"  access_token:   {cfg.access_token or '(none; mint one via /oauth/token)'}")
        print(f"  users:          {cfg.users} (seed {cfg.seed})")
        print(f"  roles/orgs:     {cfg.roles} / {cfg.organizations}")
        print(f"  apps/actions:   {cfg.clients} / {cfg.actions} ({cfg.log_streams} log streams)")
        print(f"  secret marker:  {cfg.secret_marker}")
        print(f"  log events:     {cfg.logs} over {cfg.log_days} days")
        print(f"  rate limits:    {cfg.rate_limit_profile}", flush=True)
        if args.ready_file:
            tmp = f"{args.ready_file}.tmp"
            with open(tmp, "w") as fh:
                fh.write(sb.base_url + "\n")
            os.replace(tmp, args.ready_file)
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        while not stop.wait(0.5):
            pass
    finally:
        sb.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
