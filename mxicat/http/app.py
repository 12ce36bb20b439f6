"""``create_app(settings)``: the mxicat HTTP service (FastAPI), built on demand, never at import time.

Routers are listed explicitly in :func:`routers`; to add one (MX API ``/api/v1/...``, PaNOSC ``/panosc``),
import its module there and append its ``APIRouter`` -- no directory scanning. Errors: exactly one handler
for :class:`~mxicat.errors.MxicatError` (ICAT's body ``{"code","message","offset"}`` with the class's
``http_status``) and one last-resort handler (logs the traceback, answers a generic 500 in the same shape,
revealing nothing). CORS comes from ``settings.cors_origins``.

``app.state`` holds ``settings`` and ``icat_backend`` (the served embedded catalogue with its sessions,
:class:`mxicat.http.backend.EmbeddedIcatBackend`; ``None`` when ``settings.catalogue`` is a remote ICAT),
both per app, so tests can build one app per fixture. Routes reach them through ``request.app.state``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from mxicat import __version__
from mxicat.errors import BadParameterError, MxicatError

if TYPE_CHECKING:
    from mxicat.http.icat_rest import IcatBackend
    from mxicat.settings import Settings

logger = logging.getLogger(__name__)


def routers(settings: Settings) -> list[APIRouter]:
    """Every router of the service, in order. Add new ones here (explicit list, style rule 8).

    The ICAT REST router (``/icat/...``) is served only for an embedded catalogue: in front of a real ICAT
    (``icat+https://`` catalogue URL) clients talk to that ICAT directly. It ends with a catch-all for
    ``/icat/{path}`` (NOT_IMPLEMENTED), so routers with other prefixes may come before or after it.
    """
    from mxicat.catalogue.open import is_remote_url
    from mxicat.http import icat_rest
    from mxicat.http.routes import auth, datasets, federation, ingest, investigations, panosc

    found: list[APIRouter] = [
        auth.router,  # /api/v1/auth: login with the catalogue's authenticators, bearer tokens
        datasets.router,  # /api/v1/datasets, /api/v1/groups (reads), mmCIF export
        investigations.router,  # /api/v1/investigations, /api/v1/samples
        ingest.router,  # /api/v1/collections, /api/v1/processed, POST /api/v1/groups
        federation.router,  # /api/v1/federation/datasets: fan-out to the configured peers
        panosc.router,  # /panosc/...: PaNOSC search API provider (public data)
    ]
    if not is_remote_url(settings.catalogue):
        found.append(icat_rest.router)  # /icat/... ICAT REST API over the embedded catalogue
    return found


async def _mxicat_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, MxicatError)
    if exc.http_status >= 500:
        logger.error("%s %s failed: %s: %s", request.method, request.url.path, exc.code, exc)
    return JSONResponse(exc.to_icat_json(), status_code=exc.http_status)


async def _invalid_request(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's request validation failures in the one error shape (422, every bad field listed)."""
    from mxicat.errors import InvalidRequestError

    errors = [{"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
              for e in exc.errors()]  # type: ignore[attr-defined]
    fields = ", ".join(".".join(str(p) for p in e["loc"]) for e in errors)
    return await _mxicat_error(request, InvalidRequestError(f"invalid request: {fields}", errors))


#: ICAT code of an HTTP error raised by the framework itself (unknown path, bad method, unparsable body)
_HTTP_CODES = {400: "BAD_PARAMETER", 401: "SESSION", 403: "INSUFFICIENT_PRIVILEGES", 404: "NO_SUCH_OBJECT_FOUND",
               405: "NOT_IMPLEMENTED", 413: "BAD_PARAMETER", 415: "BAD_PARAMETER"}


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    """Framework HTTP errors (404 unknown path, 405, body parse errors) in the one error shape."""
    status = int(getattr(exc, "status_code", 500))
    body = {"code": _HTTP_CODES.get(status, "INTERNAL"), "message": str(getattr(exc, "detail", "") or status)}
    return JSONResponse(body, status_code=status, headers=getattr(exc, "headers", None))


async def _too_deep(request: Request, exc: Exception) -> JSONResponse:
    """A filter, query or body nested beyond Python's recursion limit: the caller's input, not a crash."""
    logger.warning("%s %s: input nested too deeply", request.method, request.url.path)
    return await _mxicat_error(request, BadParameterError("input is nested too deeply"))


async def _last_resort(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("unhandled error in %s %s", request.method, request.url.path, exc_info=exc)
    body = {"code": "INTERNAL", "message": "Internal server error; the details are in the server log."}
    return JSONResponse(body, status_code=500)


def create_app(settings: Settings | None = None, *, icat_backend: IcatBackend | None = None) -> FastAPI:
    """Build the service for ``settings`` (``Settings()`` when omitted: environment and mxicat.toml).

    Args:
        settings: configuration; its ``catalogue`` is the catalogue served.
        icat_backend: the served embedded catalogue; by default opened from ``settings.catalogue`` (none
            for a remote ICAT URL).
    """
    if settings is None:
        from mxicat.settings import Settings

        settings = Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        backend = getattr(app.state, "icat_backend", None)
        close = getattr(backend, "close", None)
        if callable(close):
            close()

    app = FastAPI(
        title="mxicat",
        version=__version__,
        description="ICAT-compatible metadata catalogue for macromolecular and serial crystallography.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    if icat_backend is None:
        from mxicat.catalogue.open import is_remote_url
        from mxicat.http.backend import EmbeddedIcatBackend

        if not is_remote_url(settings.catalogue):
            icat_backend = EmbeddedIcatBackend.from_settings(settings)
    app.state.icat_backend = icat_backend
    for router in routers(settings):
        app.include_router(router)
    app.add_exception_handler(MxicatError, _mxicat_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RecursionError, _too_deep)
    app.add_exception_handler(Exception, _last_resort)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST", "PUT", "DELETE", "OPTIONS"],
            allow_headers=["*"],
        )
    return app
