"""TLS options of the remote client against a real HTTPS server on 127.0.0.1 that requires client certificates.

A throw-away CA, server certificate (SAN 127.0.0.1) and client certificate are made with the openssl command;
the served ICAT REST API runs under uvicorn with TLS in a thread. Skipped when openssl is not installed.
"""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn

from mxicat.catalogue.embedded.auth import write_simple_user
from mxicat.catalogue.remote import RemoteIcat, TransportOptions
from mxicat.errors import UnavailableError
from mxicat.http.app import create_app
from mxicat.settings import Settings


@dataclass
class Pki:
    ca: Path
    server: tuple[Path, Path]
    client: tuple[Path, Path]


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def _make_pki(root: Path) -> Pki:
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
             "-subj", "/CN=mxicat test CA", cwd=root)
    for name, usage, san in (("server", "serverAuth", "subjectAltName=IP:127.0.0.1,DNS:localhost\n"),
                             ("client", "clientAuth", "")):
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr",
                 "-subj", f"/CN=mxicat test {name}", cwd=root)
        (root / f"{name}.ext").write_text(
            f"{san}basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage={usage}\n"
        )
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                 "-out", f"{name}.pem", "-days", "2", "-extfile", f"{name}.ext", cwd=root)
    return Pki(root / "ca.pem", (root / "server.pem", root / "server.key"), (root / "client.pem", root / "client.key"))


@pytest.fixture(scope="module")
def https_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Pki]]:
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is not installed (needed to make test certificates)")
    root = tmp_path_factory.mktemp("tls")
    pki = _make_pki(root)
    auth = root / "users.yaml"
    write_simple_user(auth, "root", "pw")
    settings = Settings(catalogue=f"sqlite:///{root / 'cat.db'}", auth_file=auth, outbox=root / "outbox.db")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_level="warning",
        ssl_certfile=str(pki.server[0]), ssl_keyfile=str(pki.server[1]),
        ssl_ca_certs=str(pki.ca), ssl_cert_reqs=ssl.CERT_REQUIRED,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn with TLS did not start")
        time.sleep(0.05)
    try:
        yield f"icat+https://127.0.0.1:{port}", pki
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_ca_bundle_and_client_certificate(https_server: tuple[str, Pki], monkeypatch: pytest.MonkeyPatch) -> None:
    url, pki = https_server
    # a machine-wide bundle in the environment must not override the CA bundle given explicitly
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", ssl.get_default_verify_paths().openssl_cafile)
    opts = TransportOptions(verify=str(pki.ca), cert=(str(pki.client[0]), str(pki.client[1])), timeout=10)
    server = RemoteIcat(url, opts)
    assert server.version() == "6.2.0"
    with server.login("simple", {"username": "root", "password": "pw"}) as cat:
        assert cat.user_name == "simple/root"
        assert cat.search("SELECT COUNT(f) FROM Facility f") == [0]


def test_untrusted_server_certificate_is_refused(https_server: tuple[str, Pki]) -> None:
    url, pki = https_server
    opts = TransportOptions(cert=(str(pki.client[0]), str(pki.client[1])), retries=0, timeout=10)
    with pytest.raises(UnavailableError, match="TLS|certificate|SSL"):
        RemoteIcat(url, opts).version()  # system CAs do not know the test CA


def test_missing_client_certificate_is_refused(https_server: tuple[str, Pki]) -> None:
    url, pki = https_server
    with pytest.raises(UnavailableError):
        RemoteIcat(url, TransportOptions(verify=str(pki.ca), retries=0, timeout=10)).version()
