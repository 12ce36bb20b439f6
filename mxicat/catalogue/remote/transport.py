"""HTTP transport to an ICAT REST API: one pooled ``requests.Session``, TLS, timeouts, safe retries.

Only idempotent reads (GET) are retried, on connection failures and on 502/503/504 from a proxy; writes,
logins, refreshes and deletes are sent exactly once, so a retry can never create or delete twice.
ICAT error bodies (``{"code", "message", "offset"}``) become the matching :mod:`mxicat.errors` class.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3 import exceptions as urllib3_exceptions
from urllib3.util.retry import Retry

from mxicat.errors import (
    BadParameterError,
    InternalError,
    MxicatError,
    NotImplementedYetError,
    UnavailableError,
    translate_icat_error,
)

logger = logging.getLogger(__name__)

#: URL schemes that name a real ICAT's REST API, and the HTTP scheme each one uses.
ICAT_SCHEMES: dict[str, str] = {"icat+https": "https", "icat+http": "http", "https": "https", "http": "http"}


@dataclass(frozen=True)
class TransportOptions:
    """How to talk HTTP to one ICAT server.

    Attributes:
        verify: ``True`` (system CAs), ``False`` (no certificate check: testing only) or the path of a
            CA bundle file or directory.
        cert: client certificate: a PEM file holding certificate and key, or ``(cert_file, key_file)``.
        timeout: seconds to wait for the connection and for each answer.
        connect_timeout: seconds to wait for the TCP/TLS connection (defaults to ``timeout``).
        retries: how often an idempotent read is retried after a connection error or a 502/503/504.
        backoff: base of the exponential pause between retries, in seconds.
        pool_size: connections kept open to the server (reused across calls).
    """

    verify: bool | str = True
    cert: str | tuple[str, str] | None = None
    timeout: float = 30.0
    connect_timeout: float | None = None
    retries: int = 3
    backoff: float = 0.2
    pool_size: int = 4


def icat_base_url(url: str) -> str:
    """The HTTP(S) base under which ``/icat/...`` lives, from ``icat+https://host[:port][/prefix]``.

    A URL that already ends in ``/icat`` (the REST API's context root) means the same server.

    Raises:
        BadParameterError: the URL has no host or a scheme that does not name an ICAT server.
    """
    parts = urlsplit(url)
    scheme = ICAT_SCHEMES.get(parts.scheme.lower())
    if scheme is None or not parts.netloc:
        raise BadParameterError(
            f"not an ICAT URL: {url!r} (expected icat+https://host[:port][/path] or icat+http://...)"
        )
    path = parts.path.rstrip("/")
    if path.endswith("/icat"):  # the REST API's own context root given as part of the URL
        path = path[: -len("/icat")]
    return urlunsplit((scheme, parts.netloc, path, "", ""))


class Transport:
    """Pooled JSON-over-HTTP calls to ``{base}/icat/...`` with ICAT error translation."""

    def __init__(self, base_url: str, options: TransportOptions | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.options = options or TransportOptions()
        opts = self.options
        self._timeout = (opts.connect_timeout or opts.timeout, opts.timeout)
        http = requests.Session()
        http.verify = opts.verify
        if opts.cert is not None:
            http.cert = opts.cert
        http.headers["Accept"] = "application/json"
        read_retry = Retry(
            total=opts.retries,
            connect=opts.retries,
            read=opts.retries,
            status=opts.retries,
            other=0,
            allowed_methods=frozenset({"GET", "HEAD"}),
            status_forcelist=(502, 503, 504),
            backoff_factor=opts.backoff,
            raise_on_status=False,
            respect_retry_after_header=True,
        )
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=opts.pool_size, max_retries=read_retry)
        http.mount("http://", adapter)
        http.mount("https://", adapter)
        self._http = http
        #: number of calls sent (for benchmarks and request budgets; automatic retries of a read not counted)
        self.requests_sent = 0

    def close(self) -> None:
        """Close pooled connections."""
        self._http.close()

    def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        form: Mapping[str, Any] | None = None,
    ) -> Any:
        """Send one request to ``{base}/icat/{path}``; return the decoded JSON answer (``None`` if empty).

        Raises:
            MxicatError: the ICAT error class of the answer; :class:`UnavailableError` when the server
                cannot be reached or a proxy answers 502/503/504.
        """
        url = f"{self.base_url}/icat/{path}"
        self.requests_sent += 1
        try:
            # verify/cert per request: a session-level setting would lose against REQUESTS_CA_BUNDLE
            resp = self._http.request(
                method,
                url,
                params=params,
                data=form,
                timeout=self._timeout,
                verify=self.options.verify,
                cert=self.options.cert,
            )
        except requests.exceptions.SSLError as err:
            raise UnavailableError(f"TLS failure talking to {self.base_url}: {err}") from err
        except (requests.exceptions.Timeout, requests.exceptions.ConnectionError) as err:
            if _is_timeout(err):
                raise UnavailableError(
                    f"ICAT at {self.base_url} did not answer {method} {path} within {self.options.timeout} s"
                ) from err
            raise UnavailableError(f"cannot reach ICAT at {self.base_url}: {_short(err)}") from err
        except requests.exceptions.RequestException as err:
            raise UnavailableError(f"HTTP failure talking to {self.base_url}: {_short(err)}") from err
        if resp.status_code >= 400:
            raise _error_from(resp, method, path)
        if resp.status_code == 204 or not resp.content:
            return None
        try:
            return resp.json()
        except ValueError as err:
            raise InternalError(
                f"ICAT at {self.base_url} answered {method} {path} with non-JSON content "
                f"({resp.headers.get('Content-Type', 'no content type')})"
            ) from err


def _is_timeout(err: Exception) -> bool:
    """Whether a requests error is a timeout (after retries requests wraps it in a ConnectionError)."""
    if isinstance(err, requests.exceptions.Timeout):
        return True
    reason = getattr(err.args[0], "reason", None) if err.args else None
    if isinstance(reason, urllib3_exceptions.NewConnectionError):  # a subclass of ConnectTimeoutError
        return False
    return isinstance(reason, TimeoutError | urllib3_exceptions.TimeoutError)


def _short(err: Exception) -> str:
    text = str(err)
    return text if len(text) <= 300 else text[:300] + "..."


def _error_from(resp: requests.Response, method: str, path: str) -> MxicatError:
    """The mxicat error for an HTTP error answer: ICAT's JSON body if there is one."""
    body: Any = None
    try:
        body = resp.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and "code" in body:
        return translate_icat_error(body, status=resp.status_code)
    where = f"{method} {resp.url.split('?')[0]}"
    if resp.status_code in (414, 431):
        return BadParameterError(
            f"HTTP {resp.status_code} for {where}: the request line is too long for this server "
            f"({len(resp.url)} characters); ICAT searches travel in the URL, so split long IN (...) lists"
        )
    if resp.status_code in (502, 503, 504):
        return UnavailableError(f"ICAT unavailable: HTTP {resp.status_code} for {where}")
    if resp.status_code in (404, 405, 501):
        return NotImplementedYetError(
            f"HTTP {resp.status_code} for {where}: not an ICAT REST call on this server"
        )
    snippet = resp.text[:200] if resp.text else ""
    if isinstance(body, dict | list):
        snippet = json.dumps(body)[:200]
    return InternalError(f"HTTP {resp.status_code} for {where}: {snippet}".rstrip(": "))
