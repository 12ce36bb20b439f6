"""Run ``mxicat serve`` in a child process on 127.0.0.1: for tests, benchmarks and federation demos.

::

    with serve_subprocess({"catalogue": "sqlite:///site-a.db", "auth_file": "users.yaml"}) as site:
        cat = open_catalogue(site.icat_url, credentials={...})     # icat+http://127.0.0.1:<port>
        requests.get(f"{site.url}/api/v1/...")                     # http://127.0.0.1:<port>

The child gets the parent's environment without any ``MXICAT_*`` variable, then the given settings as
``MXICAT_<NAME>`` variables (lists and mappings as JSON), and ``MXICAT_CONFIG`` pointing at a file that does
not exist unless one is given, so no machine-wide ``mxicat.toml`` leaks in. It runs in the caller's working
directory, so relative paths in the settings mean the same for both. The context waits until the
service answers and terminates the process (then kills it if needed) at exit.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from mxicat.errors import UnavailableError


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free on ``host`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class ServedProcess:
    """A running ``mxicat serve`` child."""

    process: subprocess.Popen[bytes]
    host: str
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        """``http://host:port`` (the service root)."""
        return f"http://{self.host}:{self.port}"

    @property
    def icat_url(self) -> str:
        """``icat+http://host:port``: the catalogue URL of its ICAT REST API."""
        return f"icat+http://{self.host}:{self.port}"

    def log(self) -> str:
        """What the server printed so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def _env_value(value: Any) -> str:
    if isinstance(value, str | Path):
        return str(value)
    return json.dumps(value)


@contextmanager
def serve_subprocess(
    settings: Mapping[str, Any],
    *,
    host: str = "127.0.0.1",
    port: int | None = None,
    ready_timeout: float = 60.0,
    log_path: Path | None = None,
    log_level: str = "warning",
) -> Iterator[ServedProcess]:
    """Start ``python -m mxicat serve`` with these settings; stop it when the context ends.

    Args:
        settings: :class:`~mxicat.settings.Settings` field values (``catalogue``, ``auth_file``, ...).
        port: TCP port (default: a free one).
        ready_timeout: seconds to wait for the first answer.
        log_path: where the child's output goes (default: a temporary file).

    Raises:
        UnavailableError: the process exited or did not answer in time (its output is in the message).
    """
    port = free_port(host) if port is None else port
    env = {k: v for k, v in os.environ.items() if not k.startswith("MXICAT_")}
    with tempfile.TemporaryDirectory(prefix="mxicat-serve-") as tmp:
        env["MXICAT_CONFIG"] = str(Path(tmp) / "absent.toml")
        env.update({f"MXICAT_{key.upper()}": _env_value(value) for key, value in settings.items()})
        log_file = log_path or Path(tmp) / "serve.log"
        cmd = [sys.executable, "-m", "mxicat", "serve", "--host", host, "--port", str(port), "--log-level", log_level]
        with log_file.open("wb") as log:
            proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
        served = ServedProcess(proc, host, port, log_file)
        try:
            _wait_ready(served, ready_timeout)
            yield served
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait_ready(served: ServedProcess, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if served.process.poll() is not None:
            raise UnavailableError(f"mxicat serve exited with {served.process.returncode}:\n{served.log()}")
        try:
            if requests.get(f"{served.url}/openapi.json", timeout=2).ok:
                return
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise UnavailableError(f"mxicat serve did not answer within {timeout} s:\n{served.log()}")
        time.sleep(0.1)
