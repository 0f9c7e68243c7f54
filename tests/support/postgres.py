"""A private PostgreSQL server for a gradebook: started from Debian's binaries on a port of its own.

    with PrivatePostgres(tmp_dir) as server:
        url = server.create_database("nbgrader")   # postgresql+psycopg2://grader:...@127.0.0.1:PORT/nbgrader

A test rig (tests and benchmarks, not the product): runs nbgrader's gradebook on a real server
(``c.CourseDirectory.db_url``), the way a large course would. The server listens on
127.0.0.1 only, on a free port, with its socket in its own folder; its data lives in
the given folder and disappears with it. PostgreSQL refuses to run as root, so as
root the server runs as the ``postgres`` account (Debian's package creates it).
A production setup (roles, one database per course, credentials) is in the README.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import subprocess
from pathlib import Path

from .dask_cluster import free_port


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries here (Debian: apt-get install postgresql)."""


def server_binaries() -> Path | None:
    """The folder of Debian's PostgreSQL server binaries (the newest installed), or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parts[4]))
    return Path(found[-1]).parent if found else None


class PrivatePostgres:
    """One PostgreSQL server in ``folder``, owned by this process; ``stop()`` (or leaving ``with``) ends it.

    As root the server runs as ``postgres``, so ``folder``'s parents must be traversable by that account
    (a folder made by ``tempfile.mkdtemp()`` in /tmp is).
    """

    def __init__(self, folder: str | Path):
        self.bin = server_binaries()
        if self.bin is None:
            raise PostgresUnavailable("PostgreSQL server binaries not found (Debian: apt-get install postgresql)")
        self.folder = Path(folder).resolve()
        self.data, self.sockets = self.folder / "data", self.folder / "sockets"
        self.port = free_port()
        self.password = secrets.token_hex(16)
        self.user = "grader"
        self.account = "postgres" if os.geteuid() == 0 else None

    def _run(self, *argv: str, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
        command = list(argv)
        if self.account:
            command = ["setpriv", f"--reuid={self.account}", f"--regid={self.account}", "--init-groups", *command]
        return subprocess.run(command, check=check, capture_output=True, text=True, **kwargs)

    def start(self) -> "PrivatePostgres":
        self.folder.mkdir(parents=True, exist_ok=True)
        self.sockets.mkdir(exist_ok=True)
        if self.account:
            entry = pwd.getpwnam(self.account)
            for path in (self.folder, self.sockets):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        secret = self.folder / "password"
        secret.write_text(self.password + "\n")
        if self.account:
            os.chown(secret, pwd.getpwnam(self.account).pw_uid, -1)
        secret.chmod(0o600)
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", self.user, f"--pwfile={secret}",
                  "--auth-local=scram-sha-256", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8")
        secret.unlink()
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-w", "-t", "60", "-l", str(self.folder / "server.log"),
                  "-o", f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories={self.sockets} "
                        "-c max_connections=200 -c fsync=off", "start")
        return self

    def url(self, database: str) -> str:
        return f"postgresql+psycopg2://{self.user}:{self.password}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Create database ``name`` (owned by the server's user) and return its SQLAlchemy URL."""
        import sqlalchemy as sa

        engine = sa.create_engine(self.url("postgres"), isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        return self.url(name)

    def stop(self) -> None:
        if self.data.exists():
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop", check=False)

    def __enter__(self) -> "PrivatePostgres":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)

