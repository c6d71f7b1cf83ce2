#!/usr/bin/env python3
"""Start/stop a throw-away PostgreSQL cluster on 127.0.0.1 (for tests and CI).

Uses the server binaries of Debian's ``postgresql`` package
(``/usr/lib/postgresql/<ver>/bin``) or any ``initdb``/``pg_ctl`` on PATH.
When run as root, the cluster is created and run as the ``postgres`` OS user
(PostgreSQL refuses to run as root).

CLI (prints shell ``export`` lines, for ``eval``)::

    eval "$(python3 scripts/pgtemp.py start --dir /tmp/pg)"   # sets TAP_AUTH0_TEST_PG_URI
    python3 scripts/pgtemp.py stop --dir /tmp/pg

``start`` exits with status 3 when no server binaries (initdb, pg_ctl) are installed.

Python::

    from pgtemp import TempPostgres
    with TempPostgres(tmpdir) as pg:
        pg.uri  # postgresql://tap_auth0:tap_auth0@127.0.0.1:PORT/tap_auth0_test
"""

from __future__ import annotations

import argparse
import glob
import os
import shlex
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

DEFAULT_DB = "tap_auth0_test"
DEFAULT_ROLE = "tap_auth0"
NO_SERVER_BINARIES = 3  # exit status of `start` without initdb/pg_ctl


def find_pg_bindir() -> Path | None:
    """Directory holding initdb/pg_ctl/postgres, newest version first."""
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda p: [int(x) for x in Path(p).parent.name.split(".") if x.isdigit()],
        reverse=True,
    )
    for c in candidates:
        if (Path(c) / "initdb").exists() and (Path(c) / "pg_ctl").exists():
            return Path(c)
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(os.path.realpath(initdb)).parent
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


class TempPostgres:
    """A PostgreSQL cluster in ``datadir``, listening on 127.0.0.1 only, trust auth."""

    def __init__(
        self,
        datadir: str | os.PathLike,
        port: int | None = None,
        db: str = DEFAULT_DB,
        role: str = DEFAULT_ROLE,
    ):
        self.datadir = Path(datadir).resolve()
        self.port = port or free_port()
        self.db = db
        self.role = role
        self.bindir = find_pg_bindir()
        if self.bindir is None:
            raise RuntimeError("PostgreSQL server binaries (initdb, pg_ctl) not found")
        self.as_postgres = os.geteuid() == 0

    @property
    def uri(self) -> str:
        return f"postgresql://{self.role}:{self.role}@127.0.0.1:{self.port}/{self.db}"

    def _run(self, *args: str) -> subprocess.CompletedProcess:
        cmd = [str(a) for a in args]
        if self.as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(
            cmd,
            check=True,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd="/",
        )

    def start(self) -> TempPostgres:
        self.datadir.mkdir(parents=True, exist_ok=True)
        if self.as_postgres:
            # every parent must be traversable by the postgres user
            shutil.chown(self.datadir, "postgres", "postgres")
            os.chmod(self.datadir, 0o700)
        if not (self.datadir / "PG_VERSION").exists():
            self._run(
                self.bindir / "initdb",
                "-D", self.datadir,
                "-U", "postgres",
                "-A", "trust",
                "-E", "UTF8",
                "--locale=C",
                "--no-sync",
            )  # fmt: skip
        opts = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {shlex.quote(str(self.datadir))}"
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        try:
            self._run(
                self.bindir / "pg_ctl",
                "-D", self.datadir,
                "-o", opts,
                "-l", self.datadir / "server.log",
                "-w", "-t", "60",
                "start",
            )  # fmt: skip
        except subprocess.CalledProcessError as exc:
            log = self.datadir / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"pg_ctl start failed: {exc.stdout}\n{tail}") from exc
        deadline = time.monotonic() + 30
        while not port_open("127.0.0.1", self.port):
            if time.monotonic() > deadline:
                raise RuntimeError(f"PostgreSQL did not open 127.0.0.1:{self.port}")
            time.sleep(0.2)
        self._run(
            self.bindir / "psql",
            "-h", "127.0.0.1", "-p", self.port, "-U", "postgres", "-d", "postgres",
            "-v", "ON_ERROR_STOP=1", "-q",
            "-c", f'DROP DATABASE IF EXISTS "{self.db}"',
            "-c", f'DROP ROLE IF EXISTS "{self.role}"',
            "-c", f"CREATE ROLE \"{self.role}\" LOGIN PASSWORD '{self.role}'",
            "-c", f'CREATE DATABASE "{self.db}" OWNER "{self.role}"',
        )  # fmt: skip
        return self

    def stop(self) -> None:
        if (self.datadir / "postmaster.pid").exists():
            try:
                self._run(self.bindir / "pg_ctl", "-D", self.datadir, "-m", "fast", "-w", "stop")
            except subprocess.CalledProcessError as exc:
                print(f"pg_ctl stop failed: {exc.stdout}", file=sys.stderr)

    def __enter__(self) -> TempPostgres:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("action", choices=["start", "stop"])
    ap.add_argument("--dir", required=True, help="cluster data directory")
    ap.add_argument("--port", type=int, default=None)
    ap.add_argument("--db", default=DEFAULT_DB)
    args = ap.parse_args(argv)
    if args.action == "stop":
        if find_pg_bindir() is not None:
            TempPostgres(args.dir, port=args.port or 1, db=args.db).stop()
        return 0
    if find_pg_bindir() is None:
        print("pgtemp: PostgreSQL server binaries (initdb, pg_ctl) not found", file=sys.stderr)
        return NO_SERVER_BINARIES
    pg = TempPostgres(args.dir, port=args.port, db=args.db).start()
    print(f"export TAP_AUTH0_TEST_PG_URI={shlex.quote(pg.uri)}")
    print(f"export TAP_AUTH0_TEST_PG_DIR={shlex.quote(str(pg.datadir))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
