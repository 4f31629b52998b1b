"""A throwaway redis-server for tests (the real dramatiq broker).

``temporary_redis()`` starts Debian's ``redis-server`` on a free loopback port with no
persistence (``--save '' --appendonly no``) in a temporary folder, and stops it afterwards.
The pytest fixtures ``redis_server`` (one per session) and ``redis_url`` (the same server,
emptied for each test) are made available to every test folder by ``tests/conftest.py``.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

CANDIDATES = ("redis-server", "/usr/bin/redis-server", "/usr/local/bin/redis-server")
START_TIMEOUT_S = 15.0


class RedisUnavailable(RuntimeError):
    pass


def _binary() -> str:
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    raise RedisUnavailable("redis-server is not installed (Debian: apt-get install redis-server; "
                           "`make system-deps` does it)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def temporary_redis() -> Iterator[str]:
    """Yield ``redis://127.0.0.1:<port>/0`` of a fresh server."""
    import redis

    binary = _binary()
    folder = Path(tempfile.mkdtemp(prefix="loupe-redis-"))
    port = _free_port()
    log = open(folder / "redis.log", "wb")
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(folder)], stdout=log, stderr=subprocess.STDOUT)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                redis.Redis.from_url(url, socket_timeout=1).ping()
                break
            except redis.exceptions.ConnectionError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    raise RedisUnavailable(f"redis-server did not start: {(folder / 'redis.log').read_text()[-2000:]}")
                time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[str]:
    """URL of a real redis-server running for the whole session (skips when not installed)."""
    try:
        with temporary_redis() as url:
            yield url
    except RedisUnavailable as e:
        pytest.skip(f"needs a real Redis: {e}")


@pytest.fixture
def redis_url(redis_server: str) -> str:
    """The session's Redis, emptied for this test."""
    import redis

    redis.Redis.from_url(redis_server).flushall()
    return redis_server
