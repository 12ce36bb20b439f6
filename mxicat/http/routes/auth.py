"""``/api/v1/auth``: log in with the catalogue's authenticators, who am I, log out."""

from __future__ import annotations

from fastapi import APIRouter, Response

from mxicat.http.deps import Bearer, CallerMx, Source
from mxicat.http.schemas import ERROR_RESPONSES, AuthenticatorOut, LoginIn, LoginOut, SessionOut

router = APIRouter(prefix="/api/v1/auth", tags=["auth"], responses=ERROR_RESPONSES)


@router.get("", response_model=list[AuthenticatorOut], summary="Authenticators of the catalogue")
def authenticators(source: Source) -> list[dict[str, object]]:
    """The authenticator plugins a login may name, with the credential keys each expects."""
    return source.authenticators()


@router.post("/login", response_model=LoginOut, summary="Log in; returns a bearer token")
def login(body: LoginIn, source: Source) -> LoginOut:
    """Log in through one of the catalogue's authenticators. The token is a catalogue session id: send it
    as ``Authorization: Bearer <token>``. A refused login is a 401 (code ``SESSION``) that does not say
    whether the user or the password was wrong."""
    credentials = dict(body.credentials)
    if body.username is not None:
        credentials["username"] = body.username
    if body.password is not None:
        credentials["password"] = body.password
    token, user = source.login(body.plugin, credentials)
    return LoginOut(token=token, user_name=user)


@router.get("/session", response_model=SessionOut, summary="The caller's identity")
def session(mx: CallerMx, auth: Bearer) -> SessionOut:
    """Who the request acts as: the session's user, or the anonymous user (``anon/anon``) without a token."""
    if auth is None:
        return SessionOut(user_name=mx.session.user_name, anonymous=True, remaining_minutes=None)
    return SessionOut(user_name=mx.session.user_name, anonymous=False,
                      remaining_minutes=mx.session.remaining_minutes())


@router.delete("/session", status_code=204, summary="Log out")
def logout(source: Source, auth: Bearer) -> Response:
    """End the session of the token (401 without a valid token)."""
    from mxicat.errors import AuthenticationError

    if auth is None:
        raise AuthenticationError("no session token to log out")
    source.logout(auth.credentials)
    return Response(status_code=204)
