"""A real PostgreSQL for the tests (Debian's ``postgresql``): initdb and pg_ctl in a temporary
directory, on a free loopback port, one server per session and one fresh database per test.

PostgreSQL refuses to run as root: as root (CI, this machine) the server runs as the
``postgres`` user the Debian package makes (``runuser``), in a directory it can enter.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from siaga.servers import ServerMissing, free_port

BIN = Path("/usr/lib/postgresql/15/bin")
_numbers = itertools.count(1)


def _as_server_user(argv: list[str]) -> list[str]:
    """``argv`` run as the postgres user when we are root (initdb and postgres refuse root)."""
    if os.geteuid() != 0:
        return argv
    if shutil.which("runuser") is None:
        raise ServerMissing("runuser not found: install the Debian package util-linux")
    return ["runuser", "-u", "postgres", "--", *argv]


@dataclass
class Postgres:
    """One PostgreSQL server on 127.0.0.1:``port`` with its data in ``directory``."""

    directory: Path
    port: int = field(default_factory=free_port)
    settings: tuple[str, ...] = ("fsync=off", "full_page_writes=off")   # tests: speed, not safety
    started: bool = False

    @property
    def data(self) -> Path:
        return self.directory / "data"

    def start(self) -> "Postgres":
        """initdb (trust on loopback) and start; ServerMissing when the package is not there."""
        for program in ("initdb", "pg_ctl"):
            if not (BIN / program).exists():
                raise ServerMissing(f"{BIN / program} not found: install the Debian package postgresql")
        self.directory.mkdir(parents=True, exist_ok=True)
        os.chmod(self.directory, 0o755)
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres")
        subprocess.run(_as_server_user([str(BIN / "initdb"), "-D", str(self.data), "-A", "trust",
                                        "-U", "postgres", "--no-sync", "-E", "UTF8"]),
                       check=True, capture_output=True)
        self.pg_ctl("start")
        self.started = True
        return self

    def pg_ctl(self, action: str, *args: str) -> None:
        """``pg_ctl start`` (on the same port and settings) or ``stop``/``restart`` with ``args``
        (``-m fast``), waiting until it is done."""
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 " + " ".join(
            f"-c {s}" for s in self.settings)
        subprocess.run(_as_server_user([str(BIN / "pg_ctl"), "-D", str(self.data), "-w", "-t", "30",
                                        "-l", str(self.directory / "postgres.log"), "-o", options,
                                        *args, action]), check=True, capture_output=True)

    def url(self, database: str = "postgres") -> str:
        """The URL of ``database`` on this server."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def new_database(self, prefix: str = "t") -> str:
        """A new empty database; its URL."""
        import psycopg
        name = f"{prefix}{os.getpid()}_{next(_numbers)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        """pg_ctl stop (fast: connections are ended) and forget the directory."""
        if self.started:
            subprocess.run(_as_server_user([str(BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast",
                                            "-w", "stop"]), capture_output=True)
            self.started = False
        shutil.rmtree(self.directory, ignore_errors=True)


def start_postgres(**kwargs) -> Postgres:
    """A started server in a new directory under /tmp (readable by the postgres user); the
    caller stops it."""
    server = Postgres(Path(tempfile.mkdtemp(prefix="siaga-pg-")), **kwargs)
    try:
        return server.start()
    except BaseException:
        server.stop()
        raise


@pytest.fixture(scope="session")
def postgres_server():
    """One PostgreSQL for the session; a missing package fails the test (make test installs it)."""
    try:
        server = start_postgres()
    except ServerMissing as exc:
        pytest.fail(f"{exc} (make test installs it)")
    yield server
    server.stop()


@pytest.fixture
def pg_url(postgres_server: Postgres) -> str:
    """The URL of a fresh database of its own for this test."""
    return postgres_server.new_database()
