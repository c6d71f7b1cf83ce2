"""tap-auth0: the Tap class and the console entry point."""

from __future__ import annotations

import copy
import json
import signal
import sys
import typing as t
from pathlib import Path

import click
from singer_sdk.singerlib.messages import StateMessage
from singer_sdk.tap_base import CliTestOptionValue

from tap_auth0 import output
from tap_auth0.client import connect
from tap_auth0.errors import ConfigError, OneLineFailures, TapAuth0Error, TargetStopped
from tap_auth0.http_client import redact_secrets
from tap_auth0.output import BufferedMsgSpecWriter
from tap_auth0.sdk_hooks import TapHooks
from tap_auth0.settings import CONFIG_SCHEMA, Settings, parse_settings, unknown_settings
from tap_auth0.streams.base import Auth0Stream, ScopeSkips
from tap_auth0.streams.registry import STREAMS, streams_for

if t.TYPE_CHECKING:
    from tap_auth0.http_client import Auth0HTTP


class Terminated(SystemExit):
    """SIGTERM/SIGINT stopped the run: exit 128 + signal number, as shells do."""

    def __init__(self, signum: int) -> None:
        super().__init__(128 + signum)
        self.signum = signum


ONE_LINE_FAILURES = OneLineFailures()


class TapAuth0(TapHooks):
    """Singer tap for an Auth0 tenant through the Management API v2."""

    name = "tap-auth0"
    package_name = "tap-auth0-singer"
    config_jsonschema = CONFIG_SCHEMA
    # msgspec serialises records several times faster than the stdlib json writer.
    message_writer_class = BufferedMsgSpecWriter

    _settings: Settings | None = None
    _http: Auth0HTTP | None = None
    _skips: ScopeSkips | None = None

    def validate_settings(self, config: t.Mapping[str, t.Any]) -> None:
        # Our checks first: they name the setting and say what is expected, in one line.
        self._settings = parse_settings(config)
        schema = copy.deepcopy(self.config_jsonschema)
        self.append_builtin_config(schema)  # the SDK's own settings are known too
        for line in unknown_settings(config, schema.get("properties", {})):
            self.logger.warning(line)

    def config_error(self, errors: list[str]) -> Exception:
        return ConfigError(f"Invalid config: {'; '.join(errors)}")

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = parse_settings(self.config)
        return self._settings

    @property
    def http(self) -> Auth0HTTP:
        if self._http is None:
            self._http = connect(self.settings, self.logger)
        return self._http

    @property
    def skips(self) -> ScopeSkips:
        if self._skips is None:
            self._skips = ScopeSkips(self.logger)
        return self._skips

    def discover_streams(self) -> list[Auth0Stream]:
        streams = [
            cls(self, settings=self.settings, http=self.http, skips=self.skips)
            for cls in streams_for(self.settings)
        ]
        for stream in streams:
            stream.logger.addFilter(ONE_LINE_FAILURES)
        return streams

    def load_streams(self) -> list[Auth0Stream]:
        """In the registry's order, not the SDK's alphabetical one: `users` first."""
        order = {cls.name: i for i, cls in enumerate(STREAMS)}
        return sorted(super().load_streams(), key=lambda s: order.get(s.name, len(order)))

    def sync_all(self) -> None:
        super().sync_all()
        summary = self.skips.summary()
        if summary is None:
            return
        self.logger.warning("%s", summary)
        selected = [s for s in self.streams.values() if s.selected]
        if self.skips.first_error and all(s.name in self.skips.skipped for s in selected):
            # Nothing could be read at all: that is a failed run, not a partial one.
            raise self.skips.first_error

    # -- connection test ------------------------------------------------------------------
    def scope_report(self) -> list[str]:
        """Per selected stream: whether the token's scopes allow it."""
        scopes = self.http.tokens.scopes() if self.http.tokens else None
        if scopes is None:
            return [
                "Scopes: not readable from this token (not a JWT); streams are checked as they run"
            ]
        lines = []
        for stream in self.streams.values():
            if not stream.selected or not isinstance(stream, Auth0Stream) or not stream.scopes:
                continue
            ok = scopes.intersection(stream.scopes)
            verdict = (
                f"ok ({', '.join(sorted(ok))})"
                if ok
                else f"MISSING {' or '.join(stream.scopes)}: will be skipped"
            )
            lines.append(f"  {stream.name}: {verdict}")
        return ["Scopes per selected stream:", *lines]

    def check_connection(self) -> str:
        """Fail fast and say which: unreachable, bad credentials, wrong audience, scope."""
        http = self.http
        token_note = "static access_token"
        if self.settings.uses_client_credentials:
            http.tokens.token()  # type: ignore[union-attr]
            token_note = f"token minted for audience {self.settings.audience}"
        body = http.get_json(
            "/users",
            {
                "per_page": 1,
                "page": 0,
                "fields": "user_id",
                "include_fields": "true",
                "include_totals": "true",
                "search_engine": "v3",
            },
        )
        total = body.get("total") if isinstance(body, dict) else None
        users = f"{total:,} users" if isinstance(total, int) else "users listable"
        return f"Connection test passed: {http.host} ({token_note}; read:users ok; {users})"

    @classmethod
    def cb_test(cls, ctx: click.Context, param: click.Option, value: str) -> None:
        if value == CliTestOptionValue.Disabled.value:
            return
        if value == CliTestOptionValue.Schema.value:
            super().cb_test(ctx, param, value)  # type: ignore[misc]
            return
        config = ctx.params.get("config")
        tap = cls(
            config=config.config if config else None,
            parse_env_config=bool(config and config.parse_env),
            validate_config=True,
        )
        message = tap.check_connection()
        report = tap.scope_report()
        tap.run_connection_test()
        for line in [*report, message]:
            tap.logger.info("%s", line)
            sys.stderr.write(line + "\n")
        ctx.exit()

    def on_termination(self, signum: int) -> None:
        """SIGTERM/SIGINT: the last line on stdout is always a STATE (the SDK's writer
        skips one equal to the last emitted, which could leave RECORDs after it). Inside a
        write to stdout, that happens as soon as the write is done."""
        if output.after_write(lambda: self._terminate(signum)):
            self._terminate(signum)

    def _terminate(self, signum: int) -> None:
        try:
            self.message_writer.write_message(StateMessage(value=self.state))
            output.flush()
        finally:
            self.logger.info("Gracefully shutting down...")
            # Not the SDK's exit 0: an interrupted sync must not look complete.
            raise Terminated(signum)


_FILE_OPTIONS = ("--config", "--state", "--catalog")


def _check_input_files(argv: list[str]) -> None:
    """A missing or non-JSON --config/--state/--catalog file is a configuration mistake:
    one line naming the option, not the SDK's traceback."""
    pairs: list[tuple[str, str]] = []
    # Discovery and --about read no catalog or state (Meltano passes a catalog path it is
    # about to write during discovery).
    only_config = any(a in ("--discover", "--about") for a in argv)
    args = iter(argv)
    for arg in args:
        name, _, value = arg.partition("=")
        if name not in _FILE_OPTIONS:
            continue
        if not value:
            value = next(args, "")
        if only_config and name != "--config":
            continue
        if value and not (name == "--config" and value == "ENV"):
            pairs.append((name, value))
    for name, value in pairs:
        path = Path(value)
        if not path.is_file():
            raise ConfigError(f"{name} {value}: no such file")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{name} {value}: cannot be read ({exc})") from None
        except json.JSONDecodeError as exc:
            raise ConfigError(
                f"{name} {value} is not valid JSON ({exc.msg}, line {exc.lineno} "
                f"column {exc.colno})"
            ) from None
        if not isinstance(data, dict):
            raise ConfigError(f"{name} {value} must hold a JSON object")


def cli() -> None:
    """Console script: Auth0 and config failures become one line and an exit code."""
    command = TapAuth0.cli
    try:
        _check_input_files(sys.argv[1:])
        command.main(prog_name="tap-auth0", standalone_mode=False)
    except TapAuth0Error as exc:
        # Every secret this process knows (settings, minted tokens) is redacted, whatever
        # built the message (an error body may echo a token or the client secret).
        message = redact_secrets(str(exc))
        sys.stderr.write(f"tap-auth0: error: {message}\n")
        sys.stderr.flush()
        sys.exit(exc.exit_code)
    except TargetStopped as exc:
        sys.stderr.write(
            "tap-auth0: error: the target stopped reading (broken pipe on stdout); nothing "
            "more was sent, and the next run resumes from the last STATE it received\n"
        )
        sys.stderr.flush()
        sys.exit(exc.code)
    except Terminated as exc:
        sys.stderr.write(
            f"tap-auth0: error: stopped by {signal.Signals(exc.signum).name}; the next run "
            "resumes from the last STATE emitted\n"
        )
        sys.stderr.flush()
        sys.exit(exc.code)
    except KeyboardInterrupt:
        sys.exit(130)
    sys.exit(0)


if __name__ == "__main__":
    cli()
