"""One error hierarchy for mxicat, mirroring ICAT's error codes.

Every error carries the ICAT ``code`` (the string ICAT's REST API puts in ``{"code": ...}``), the HTTP status
ICAT answers with, and the exit code the CLI uses. ``offset`` is the position in a query string or the index
of the failing object in a list call (createMany), as in ICAT; -1 when it does not apply.
"""

from __future__ import annotations

from typing import Any, ClassVar


class MxicatError(Exception):
    """Root of every error mxicat raises on purpose."""

    code: ClassVar[str] = "INTERNAL"
    http_status: ClassVar[int] = 500
    exit_code: ClassVar[int] = 1

    def __init__(self, message: str, *, offset: int = -1) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset

    def to_icat_json(self) -> dict[str, Any]:
        """The body ICAT's REST API returns for this error."""
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.offset >= 0:
            body["offset"] = self.offset
        return body

    def __str__(self) -> str:
        return self.message


class BadParameterError(MxicatError):
    """A malformed argument or query (ICAT ``BAD_PARAMETER``)."""

    code = "BAD_PARAMETER"
    http_status = 400
    exit_code = 2


class InternalError(MxicatError):
    """A server or database failure, or a bug (ICAT ``INTERNAL``)."""

    code = "INTERNAL"
    http_status = 500
    exit_code = 70


class InsufficientPrivilegesError(MxicatError):
    """No rule allows the operation (ICAT ``INSUFFICIENT_PRIVILEGES``)."""

    code = "INSUFFICIENT_PRIVILEGES"
    http_status = 403
    exit_code = 77


class NoSuchObjectFoundError(MxicatError):
    """get/update/delete of an object that does not exist (ICAT ``NO_SUCH_OBJECT_FOUND``)."""

    code = "NO_SUCH_OBJECT_FOUND"
    http_status = 404
    exit_code = 4


class ObjectAlreadyExistsError(MxicatError):
    """A uniqueness constraint would be violated (ICAT ``OBJECT_ALREADY_EXISTS``)."""

    code = "OBJECT_ALREADY_EXISTS"
    http_status = 412
    exit_code = 5


class SessionError(MxicatError):
    """Invalid or expired session, or a failed login (ICAT ``SESSION``)."""

    code = "SESSION"
    http_status = 403
    exit_code = 6


class AuthenticationError(SessionError):
    """A request needs a session and has none, or an unknown or expired one (HTTP 401 on the MX API)."""

    http_status = 401


class InvalidRequestError(BadParameterError):
    """A request body or query failed validation; ``errors`` lists every bad field (HTTP 422)."""

    http_status = 422

    def __init__(self, message: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.errors = list(errors or [])

    def to_icat_json(self) -> dict[str, Any]:
        body = super().to_icat_json()
        body["errors"] = self.errors
        return body


class ValidationError(MxicatError):
    """The operation would break an invariant (ICAT ``VALIDATION``)."""

    code = "VALIDATION"
    http_status = 412
    exit_code = 3


class NotImplementedYetError(MxicatError):
    """The call is not implemented by this catalogue (ICAT ``NOT_IMPLEMENTED``)."""

    code = "NOT_IMPLEMENTED"
    http_status = 501
    exit_code = 64


class ConfigurationError(MxicatError):
    """Settings or a configuration file are wrong (not an ICAT code; reported as BAD_PARAMETER)."""

    code = "BAD_PARAMETER"
    http_status = 400
    exit_code = 78


class UnavailableError(MxicatError):
    """A catalogue, broker or peer could not be reached (transient; worth retrying)."""

    code = "INTERNAL"
    http_status = 503
    exit_code = 69


ICAT_CODE_MAP: dict[str, type[MxicatError]] = {
    cls.code: cls
    for cls in (
        BadParameterError,
        InternalError,
        InsufficientPrivilegesError,
        NoSuchObjectFoundError,
        ObjectAlreadyExistsError,
        SessionError,
        ValidationError,
        NotImplementedYetError,
    )
}


def translate_icat_error(body: dict[str, Any] | None, *, status: int | None = None) -> MxicatError:
    """Turn an ICAT REST error body (``{"code", "message", "offset"}``) into the matching error."""
    body = body or {}
    code = str(body.get("code") or "INTERNAL")
    message = str(body.get("message") or f"ICAT answered HTTP {status}")
    offset = body.get("offset", -1)
    cls = ICAT_CODE_MAP.get(code, InternalError)
    return cls(message, offset=int(offset) if isinstance(offset, int) else -1)


# Warnings are classes so users can filter them.
class MxicatWarning(UserWarning):
    """Root of mxicat's warnings."""


class OntologyTermWarning(MxicatWarning):
    """A metadata key is not an ontology term (kept as unmapped/unverified, never dropped)."""


class UnitConversionWarning(MxicatWarning):
    """A value's unit was missing or assumed during conversion."""


class HarvestWarning(MxicatWarning):
    """A NeXus file has a quirk or a missing link; the harvest went on."""
