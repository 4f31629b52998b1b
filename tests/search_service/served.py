"""A real `loupe serve` process on 127.0.0.1 for tests, and raw HTTP to it.

``serve(settings, env)`` starts ``python -m loupe serve`` on a free port over a data
directory (the tiny test model), waits for /api/health and stops it with SIGTERM. ``request``
speaks HTTP with ``http.client`` so that a test controls every byte (bodies of any content
type, header values with whitespace, URLs of 70 KB); ``memory`` reads the process's resident
memory from /proc.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from loupe_core.settings import Settings
from tests.conftest import PROJECT_ROOT

ENV = {"LOUPE_MODEL": "loupe-tiny", "LOUPE_IMAGE_MAX_SIDE": "256", "LOUPE_MODEL_DOWNLOAD": "false",
       "HF_HUB_OFFLINE": "1", "LOUPE_MODEL_RATE_PER_MINUTE": "0"}


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]  # names in lower case
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def is_json(self) -> bool:
        return self.headers.get("content-type", "").startswith("application/json")


@dataclass(frozen=True)
class Served:
    port: int
    pid: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None,
                timeout: float = 60.0) -> Answer:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
        finally:
            connection.close()

    def memory_mb(self) -> dict[str, int]:
        """VmRSS (resident now) and VmHWM (peak resident) of the server, in MiB."""
        status = Path(f"/proc/{self.pid}/status").read_text()
        return {line.split(":")[0]: int(line.split()[1]) // 1024 for line in status.splitlines()
                if line.startswith(("VmRSS:", "VmHWM:"))}

    def reset_peak_memory(self) -> bool:
        """Set VmHWM back to VmRSS (Linux: ``5`` into clear_refs); False where that is refused."""
        try:
            Path(f"/proc/{self.pid}/clear_refs").write_text("5")
            return True
        except OSError:
            return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve(settings: Settings, log_path: Path, env: dict[str, str] | None = None,
          args: tuple[str, ...] = ()) -> Iterator[Served]:
    port = free_port()
    environment = {**os.environ, **ENV, **(env or {}), "PYTHONPATH": str(PROJECT_ROOT)}
    with log_path.open("w") as log:
        process = subprocess.Popen([sys.executable, "-m", "loupe", "--data-dir", str(settings.data_dir), "serve",
                                    "--port", str(port), *args], cwd=PROJECT_ROOT, env=environment, stdout=log,
                                   stderr=subprocess.STDOUT)
        served = Served(port, process.pid)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if served.request("GET", "/api/health", timeout=2).status == 200:
                        break
                except OSError:
                    pass
                assert process.poll() is None, log_path.read_text()
                assert time.monotonic() < deadline, "the server did not answer within 60 s"
                time.sleep(0.2)
            yield served
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=60)
            finally:
                if process.poll() is None:
                    process.kill()
