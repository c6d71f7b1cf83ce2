"""tap-auth0: the Tap class and the console entry point."""

from __future__ import annotations

import copy
import json
import signal
import sys
import time
import typing as t
from datetime import datetime, timezone
from pathlib import Path

import click
from singer_sdk.singerlib.messages import StateMessage
from singer_sdk.tap_base import CliTestOptionValue

from tap_auth0 import output
from tap_auth0.changes.capture import STATE_KEY, ChangeCapture
from tap_auth0.client import Auth0Stream, ScopeSkips
from tap_auth0.errors import (
    ConfigError,
    OneLineFailures,
    ScopeError,
    TapAuth0Error,
    TargetStopped,
)
from tap_auth0.http_client import connect, redact_secrets
from tap_auth0.output import BufferedMsgSpecWriter
from tap_auth0.report import build_report
from tap_auth0.sdk_hooks import TapHooks
from tap_auth0.settings import CONFIG_SCHEMA, Settings, parse_settings, unknown_settings
from tap_auth0.streams.registry import STREAMS, streams_for
from tap_auth0.tenant import STATE_KEY as TENANT_KEY
from tap_auth0.tenant import check_state
from tap_auth0.totals import count

if t.TYPE_CHECKING:
    from tap_auth0.http_client import Auth0HTTP
    from tap_auth0.plan import Plan


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
    _capture: ChangeCapture | None = None
    _users_total: int | None = None

    def validate_settings(self, config: t.Mapping[str, t.Any]) -> None:
        # Our checks first: they name the setting and say what is expected, in one line.
        self._settings = parse_settings(config)
        schema = copy.deepcopy(self.config_jsonschema)
        self.append_builtin_config(schema)  # the SDK's own settings are known too
        for line in unknown_settings(config, schema.get("properties", {})):
            self.logger.warning(line)

    def config_error(self, errors: list[str]) -> Exception:
        return ConfigError(f"Invalid config: {'; '.join(errors)}")

    def load_state(self, state: dict[str, t.Any]) -> None:
        """A STATE written for another tenant stops the run before it writes anything
        (tenant.py); the SDK itself keeps only the `bookmarks` of an input STATE."""
        check_state(state, self.settings.tenant)
        super().load_state(state)

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

    @property
    def capture(self) -> ChangeCapture:
        if self._capture is None:
            self._capture = ChangeCapture(self.settings, self.http, self.logger)
        return self._capture

    @classmethod
    def catalog_selecting(
        cls, config: t.Mapping[str, t.Any], streams: t.Collection[str], *, add: bool = False
    ) -> dict[str, t.Any]:
        """The discovered catalog with exactly `streams` selected, or (`add`) the default
        selection plus `streams`: what a catalog file for a chosen set of streams holds
        (the bench and the tests build theirs with it)."""
        catalog = cls(config=dict(config)).catalog_dict
        for entry in catalog["streams"]:
            chosen = entry["tap_stream_id"] in streams
            for md in entry["metadata"]:
                if md["breadcrumb"] == [] and (chosen or not add):
                    md["metadata"]["selected"] = chosen
        return catalog

    def discover_streams(self) -> list[Auth0Stream]:
        streams = [
            cls(
                self, settings=self.settings, http=self.http, skips=self.skips, capture=self.capture
            )
            for cls in streams_for(self.settings)
        ]
        for stream in streams:
            stream.logger.addFilter(ONE_LINE_FAILURES)
        return streams

    def load_streams(self) -> list[Auth0Stream]:
        """In the registry's order, not the SDK's alphabetical one: `users` first."""
        order = {cls.name: i for i, cls in enumerate(STREAMS)}
        streams = t.cast("list[Auth0Stream]", super().load_streams())
        return sorted(streams, key=lambda s: order.get(s.name, len(order)))

    def sync_all(self) -> None:
        started = time.monotonic()
        since = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
        status, error = "failed", None
        # Every STATE this run writes names its tenant, for the next run's check.
        t.cast("dict[str, t.Any]", self.state)[TENANT_KEY] = self.settings.tenant
        try:
            report_path = self.settings.run_report_path
            if report_path and not Path(report_path).parent.is_dir():
                raise ConfigError(
                    f"Setting 'run_report_path': {report_path}: its folder does not exist"
                )
            self.require_scopes()
            self.begin_capture()
            super().sync_all()
            self.capture.finish()
            self.write_message(StateMessage(value=self.state))
            summary = self.skips.summary()
            if summary is not None:
                self.logger.warning("%s", summary)
            selected = [s for s in self.streams.values() if s.selected]
            if self.skips.first_error and all(s.name in self.skips.skipped for s in selected):
                # Nothing could be read at all: that is a failed run, not a partial one.
                raise self.skips.first_error
            status = "complete, with streams skipped" if self.skips.skipped else "complete"
        except Terminated:
            status = "stopped"
            raise
        except TargetStopped:
            status = "stopped: the target stopped reading"
            raise
        except TapAuth0Error as exc:
            error = redact_secrets(str(exc))
            raise
        finally:
            self.report_run(status, time.monotonic() - started, since, error)

    def require_scopes(self) -> None:
        """Before any data moves: a selected stream the token's scopes cannot read fails
        the run, naming the scopes (a run that quietly lands part of the tenant looks like
        a good one). Only when the token says its scopes; otherwise each stream finds out
        as it runs, and one refused is skipped with a warning."""
        scopes = self.http.tokens.scopes() if self.http.tokens else None
        gaps = {s.name: s.scopes for s in self.streams_to_read() if s.lacks_scope(scopes)}
        if gaps:
            raise missing_scopes(gaps)

    def begin_capture(self) -> None:
        """Decide between a full pass and change capture (changes/capture.py); in a capture
        run the log is read first: by the `logs` stream when selected, else here."""
        logs = self.streams.get("logs")
        logs_selected = bool(logs is not None and logs.selected)
        scopes = self.http.tokens.scopes() if self.http.tokens else None
        bookmarks = self.state.setdefault("bookmarks", {})
        fresh = not any(k != STATE_KEY for k in bookmarks)
        try:
            self.capture.begin(bookmarks, scopes=scopes, logs_selected=logs_selected, fresh=fresh)
        except ScopeError as exc:
            self.capture.fall_back(f"the token cannot read the log ({exc.short})")
        if self.capture.active and logs_selected:
            self.sync_first("logs")
        elif self.capture.active:
            self.capture.announce()

    def report_run(self, status: str, seconds: float, since: str, error: str | None) -> None:
        """The closing summary table (stderr), and `run_report_path`'s JSON."""
        if self._http is None:
            return
        paths: dict[str, str] = {}
        for stream in self.streams.values():
            if isinstance(stream, Auth0Stream) and stream.derived_from is None:
                paths.setdefault(stream.path, stream.name)
        logs = self.state.get("bookmarks", {}).get("logs", {})
        gaps = [g for g in logs.get("retention_gaps", []) if g.get("detected_at", "") >= since]
        report = build_report(
            status=status,
            seconds=seconds,
            stats=self._http.stats,
            records=getattr(self.message_writer, "records", {}),
            paths=paths,
            order=list(self.streams),
            skipped=self.skips.skipped,
            retention_gaps=gaps,
            held_back={
                s.name: s.held_back
                for s in self.streams.values()
                if isinstance(s, Auth0Stream) and s.held_back
            },
            error=error,
        )
        for line in report.table():
            self.logger.info("%s", line)
        if self.settings.run_report_path:
            try:
                report.write(self.settings.run_report_path)
            except ConfigError as exc:
                if error is None and status != "stopped":
                    raise
                self.logger.error("%s", exc)  # the run's own failure is the line to end on

    # -- connection test ------------------------------------------------------------------
    def plan(self) -> Plan:
        """What a full run of the selected streams will cost (plan.py)."""
        from tap_auth0.plan import build as build_plan  # `--test` only: not on a run's start-up

        scopes = self.http.tokens.scopes() if self.http.tokens else None
        return build_plan(
            self.streams_to_read(), self.http, self.settings, scopes=scopes, users=self._users_total
        )

    def streams_to_read(self) -> list[Auth0Stream]:
        """The streams a run reads: the selected ones and the parents of selected children
        (in the tap's order, parents first)."""
        return [
            s
            for s in self.streams.values()
            if isinstance(s, Auth0Stream) and (s.selected or s.has_selected_descendents)
        ]

    def check_connection(self) -> str:
        """Fail fast and say which: unreachable, bad credentials, wrong audience, scope."""
        http = self.http
        token_note = "static access_token"
        if self.settings.uses_client_credentials:
            http.tokens.token()  # type: ignore[union-attr]
            token_note = f"token minted for audience {self.settings.audience}"
        self._users_total = count(http, "/users")
        total = self._users_total
        users = f"{total:,} users" if isinstance(total, int) else "users listable"
        return f"Connection test passed: {http.host} ({token_note}; read:users ok; {users})"

    @classmethod
    def cb_test(cls, ctx: click.Context, param: click.Option, value: str) -> None:
        """`--test`: the connection and the plan (plan.py), in a handful of requests; no
        records. Exit 3 naming the scopes when a selected stream cannot be read."""
        if value == CliTestOptionValue.Disabled.value:
            return
        if value == CliTestOptionValue.Schema.value:
            super().cb_test(ctx, param, value)  # type: ignore[misc]
            return
        config = ctx.params.get("config")
        tap = cls(
            config=config.config if config else None,
            catalog=_catalog_arg(ctx),
            parse_env_config=bool(config and config.parse_env),
            validate_config=True,
        )
        message = tap.check_connection()
        plan = tap.plan()
        for line in plan.lines():
            sys.stderr.write(line + "\n")
        if plan.missing:
            raise missing_scopes(plan.missing)
        sys.stderr.write(message + "\n")
        sys.stderr.flush()
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


def _catalog_arg(ctx: click.Context) -> dict[str, t.Any] | None:
    """The `--catalog` given with `--test` (its selection is the plan's), wherever it stood
    on the command line (click may not have read it yet when `--test` runs)."""
    given = ctx.params.get("catalog")
    if given is not None:
        return json.load(given)
    args = iter(sys.argv[1:])
    for arg in args:
        name, _, value = arg.partition("=")
        if name == "--catalog":
            path = value or next(args, "")
            return json.loads(Path(path).read_text(encoding="utf-8")) if path else None
    return None


def missing_scopes(gaps: dict[str, tuple[str, ...]]) -> ScopeError:
    """One line naming every selected stream the token cannot read, and what to do."""
    needed = sorted({scopes[0] for scopes in gaps.values() if scopes})
    listed = ", ".join(f"{name} (needs {' or '.join(sc)})" for name, sc in gaps.items())
    return ScopeError(
        f"The token cannot read {len(gaps)} selected stream(s): {listed}. Grant "
        f"{', '.join(needed)} to the application on the Management API, or deselect the "
        "stream(s)",
        scopes=tuple(needed),
    )


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
