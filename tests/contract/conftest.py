"""Fixtures of the Catalogue contract suite: ``backend`` (embedded / served) and the ``mxicat serve`` process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from contract_backends import LIFETIME_MINUTES, MAX_ENTITIES, Backend, free_port, write_users


@pytest.fixture(scope="session")
def served_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``icat+http://127.0.0.1:<port>`` of a ``mxicat serve`` subprocess on its own catalogue file."""
    root = tmp_path_factory.mktemp("served")
    auth_file = root / "users.yaml"
    write_users(auth_file)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MXICAT_")}
    env.update(
        MXICAT_CONFIG=str(root / "absent.toml"),
        MXICAT_CATALOGUE=f"sqlite:///{root / 'served.db'}",
        MXICAT_AUTH_FILE=str(auth_file),
        MXICAT_ROOT_USER_NAMES='["simple/root"]',
        MXICAT_MAX_ENTITIES=str(MAX_ENTITIES),
        MXICAT_LIFETIME_MINUTES=str(LIFETIME_MINUTES),
        MXICAT_OUTBOX=str(root / "outbox.db"),
    )
    log = (root / "serve.log").open("w")
    cmd = [sys.executable, "-m", "mxicat", "serve", "--host", "127.0.0.1", "--port", str(port),
           "--log-level", "warning"]
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=root)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                log.flush()
                pytest.fail(f"mxicat serve exited with {proc.returncode}:\n{(root / 'serve.log').read_text()}")
            try:
                if requests.get(f"{base}/icat/version", timeout=1).ok:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"mxicat serve not ready after 60 s:\n{(root / 'serve.log').read_text()}")
            time.sleep(0.1)
        yield f"icat+http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(params=["embedded", "served"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    """Each contract test runs once per backend."""
    if request.param == "served":
        return Backend("served", request.getfixturevalue("served_url"))
    from mxicat.settings import Settings

    auth_file = tmp_path / "users.yaml"
    write_users(auth_file)
    url = f"sqlite:///{tmp_path / 'embedded.db'}"
    settings = Settings(
        catalogue=url,
        auth_file=auth_file,
        root_user_names=["simple/root"],
        max_entities=MAX_ENTITIES,
        lifetime_minutes=LIFETIME_MINUTES,
        outbox=tmp_path / "outbox.db",
    )
    return Backend("embedded", url, settings)
