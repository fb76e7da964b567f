"""A throwaway PostgreSQL server: Debian's binaries, a temporary cluster, a unix socket.

``PgServer`` runs ``initdb`` and ``pg_ctl`` from ``/usr/lib/postgresql/<version>/bin`` (the
``postgresql`` package; ``scripts/system-deps.sh`` installs it) on a cluster in a temporary
directory, listening only on a unix socket in that directory — no TCP port, nothing shared with
another test run. PostgreSQL refuses to run as root, and the tests run as root in CI: then the
cluster belongs to the ``postgres`` system user and every server command runs through
``runuser -u postgres``; the tests connect over the socket as the cluster's superuser.

For tests and benchmarks, never for a node's real ledger. ``fsync=False`` trades durability
for speed: the crash tests kill the *client* (the node) with SIGKILL, never the server, so what
they check does not depend on fsync; ``bench/storage.py`` keeps fsync on for its figures.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

import psycopg

__all__ = ["PgServer", "PgServerError", "find_bin_dir"]

SUPERUSER = "yulian"
SERVER_USER = "postgres"
START_TIMEOUT_S = 60


class PgServerError(RuntimeError):
    """The PostgreSQL server could not be found, started or stopped."""


def find_bin_dir() -> Path:
    """The newest ``/usr/lib/postgresql/<version>/bin`` that has ``initdb`` and ``pg_ctl``."""
    root = Path("/usr/lib/postgresql")
    versions = sorted(
        (p for p in root.glob("*/bin") if (p / "initdb").is_file() and (p / "pg_ctl").is_file()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    if not versions:
        raise PgServerError(
            "PostgreSQL server binaries not found under /usr/lib/postgresql: "
            "run scripts/system-deps.sh (Debian package 'postgresql')"
        )
    return versions[-1]


class PgServer:
    """One PostgreSQL cluster in a temporary directory, started on ``start`` and removed on
    ``stop``. ``dsn()`` connects as the superuser over the unix socket."""

    def __init__(self, *, fsync: bool = False) -> None:
        self.bin_dir = find_bin_dir()
        self.fsync = fsync
        self.as_root = os.geteuid() == 0
        self.base = Path(tempfile.mkdtemp(prefix="yulian-pg-"))
        self.data_dir = self.base / "data"
        self.socket_dir = self.base
        self.port = 5432  # names the socket file only: the server listens on no TCP port
        self.started = False

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.bin_dir / args[0]), *args[1:]]
        if self.as_root:
            cmd = ["runuser", "-u", SERVER_USER, "--", *cmd]
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=START_TIMEOUT_S)
        if result.returncode != 0:
            raise PgServerError(f"{' '.join(cmd)} failed: {result.stderr or result.stdout}")
        return result

    def start(self) -> PgServer:
        if self.as_root:
            shutil.chown(self.base, SERVER_USER, SERVER_USER)
        self.base.chmod(0o755)
        self._run("initdb", "-D", str(self.data_dir), "-U", SUPERUSER, "-A", "trust", "-N")
        self.resume()
        return self

    def resume(self) -> None:
        """Start the server of the existing cluster (after ``start`` and ``halt``)."""
        options = (
            f"-c listen_addresses='' -c unix_socket_directories='{self.socket_dir}' "
            f"-c port={self.port} -c fsync={'on' if self.fsync else 'off'} "
            "-c max_connections=200 -c shared_buffers=64MB"
        )
        log = self.base / "server.log"
        self._run("pg_ctl", "-D", str(self.data_dir), "-l", str(log), "-o", options, "-w", "start")
        self.started = True

    def halt(self, mode: str = "fast") -> None:
        """Stop the server, keeping the cluster: ``fast`` ends every session (as an operator's
        restart does), ``immediate`` drops them like a crash (recovery on the next start)."""
        if mode not in ("smart", "fast", "immediate"):
            raise PgServerError(f"unknown stop mode {mode!r}")
        self._run("pg_ctl", "-D", str(self.data_dir), "-m", mode, "-w", "stop")
        self.started = False

    def restart(self, mode: str = "fast") -> None:
        """Stop and start the server: every client session is dropped; the data stays."""
        self.halt(mode)
        self.resume()

    def terminate(self, pid: int) -> bool:
        """End one client session on the server (``pg_terminate_backend``), as a failover or an
        operator would; True if it existed."""
        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            row = conn.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone()
        return bool(row and row[0])

    def dsn(self, dbname: str = "postgres") -> str:
        return f"host={self.socket_dir} port={self.port} user={SUPERUSER} dbname={dbname}"

    def fresh_schema(self) -> str:
        """A new, unused schema name (the ledger creates it)."""
        return "t_" + uuid.uuid4().hex[:16]

    def drop_schema(self, schema: str) -> None:
        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')

    def __enter__(self) -> PgServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self.started:
            self._run("pg_ctl", "-D", str(self.data_dir), "-m", "immediate", "-w", "stop")
            self.started = False
        shutil.rmtree(self.base, ignore_errors=True)
