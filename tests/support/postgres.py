"""A throwaway PostgreSQL server for tests: ``initdb`` + ``pg_ctl`` in a temporary folder.

Uses Debian's PostgreSQL binaries (``/usr/lib/postgresql/<v>/bin``); PostgreSQL refuses to
run as root, so as root the server runs as the ``postgres`` user via ``runuser``. Listens on
127.0.0.1 on a free port; everything is removed afterwards.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from contextlib import contextmanager
from typing import Iterator


class PostgresUnavailable(RuntimeError):
    pass


def _bin_dir() -> str:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return os.path.dirname(found[-1])
    initdb = shutil.which("initdb")
    if initdb:
        return os.path.dirname(initdb)
    raise PostgresUnavailable("PostgreSQL server binaries (initdb, pg_ctl) are not installed")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def temporary_postgres() -> Iterator[str]:
    """Yield a SQLAlchemy URL of a fresh, empty database."""
    bindir = _bin_dir()
    as_root = os.geteuid() == 0
    if as_root and not shutil.which("runuser"):
        raise PostgresUnavailable("running as root and `runuser` is missing")
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
    user = "postgres" if as_root else os.environ.get("USER", "postgres")
    root = tempfile.mkdtemp(prefix="loupe-pg-")
    if as_root:
        shutil.chown(root, "postgres")
    data, port = os.path.join(root, "data"), _free_port()
    try:
        subprocess.run(prefix + [f"{bindir}/initdb", "-D", data, "-U", user, "-A", "trust", "--no-sync"],
                       check=True, capture_output=True, timeout=120)
        subprocess.run(prefix + [f"{bindir}/pg_ctl", "-D", data, "-l", os.path.join(root, "log"), "-w", "-o",
                                 f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off", "start"],
                       check=True, capture_output=True, timeout=120)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as e:
        shutil.rmtree(root, ignore_errors=True)
        raise PostgresUnavailable(f"could not start PostgreSQL: {getattr(e, 'stderr', b'')!r}") from None
    try:
        deadline = time.monotonic() + 30
        while True:
            r = subprocess.run(prefix + [f"{bindir}/createdb", "-h", "127.0.0.1", "-p", str(port), "-U", user, "loupe"],
                               capture_output=True)
            if r.returncode == 0:
                break
            if time.monotonic() > deadline:
                raise PostgresUnavailable(f"createdb failed: {r.stderr!r}")
            time.sleep(0.2)
        yield f"postgresql+psycopg://{user}@127.0.0.1:{port}/loupe"
    finally:
        subprocess.run(prefix + [f"{bindir}/pg_ctl", "-D", data, "-m", "immediate", "stop"], capture_output=True,
                       timeout=60)
        shutil.rmtree(root, ignore_errors=True)


def fresh_database(server_url: str) -> str:
    """A new empty database on the server of ``server_url``; its URL."""
    import psycopg  # the test extra installs it

    name = f"t_{uuid.uuid4().hex[:12]}"
    conninfo = server_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return server_url.rsplit("/", 1)[0] + f"/{name}"
