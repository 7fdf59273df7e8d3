"""``/api/auth``: sign-up, sign-in, sessions and passwords."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response, status

from services.gateway.accounts import repository
from services.gateway.accounts import service as accounts
from services.gateway.accounts.errors import (
    CsrfRefused,
    InvalidCredentials,
    InvalidSecondFactor,
    SessionNotFound,
)
from services.gateway.accounts.schemas import (
    AuthRead,
    LoginCreate,
    PasswordUpdate,
    SessionRead,
    SessionsEnded,
    SignupCreate,
    UserRead,
)
from services.gateway.auth import EdgeDep, GatewayDb, SignedIn
from services.gateway.edge import Edge
from services.gateway.models import LoginSession, User
from services.gateway.orgs.audit import AuditAction, record_for_user
from shared.db import unit_of_work

router = APIRouter(prefix="/api/auth", tags=["accounts"])


def user_read(user: User) -> UserRead:
    return UserRead(
        id=user.id,
        name=user.name,
        email=user.email,
        two_factor_enabled=user.totp_enabled_at is not None,
        created_at=user.created_at,
    )


def _client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _check_origin(request: Request, edge: Edge) -> None:
    # Sign-up and sign-in have no session yet, so no CSRF token; the origin
    # check alone stops another site from signing a browser into our account.
    origin = request.headers.get("origin")
    if origin is not None and origin not in edge.settings.allowed_origins:
        raise CsrfRefused()


def _set_cookie(response: Response, edge: Edge, token: bytes) -> None:
    response.set_cookie(
        edge.cookies.name,
        edge.cookies.encode(token),
        max_age=int(edge.sessions.lifetime.total_seconds()),
        path="/",
        secure=edge.cookies.secure,
        httponly=True,
        samesite="lax",
    )


async def _signed_in(
    db: GatewayDb, edge: Edge, request: Request, response: Response, user: User
) -> AuthRead:
    _, token = await accounts.open_session(
        db,
        user,
        user_agent=request.headers.get("user-agent", ""),
        policy=edge.sessions,
    )
    _set_cookie(response, edge, token)
    return AuthRead(user=user_read(user), csrf_token=edge.cookies.csrf_token(token))


@router.post("/signup", status_code=status.HTTP_201_CREATED)
async def sign_up(
    body: SignupCreate,
    request: Request,
    response: Response,
    db: GatewayDb,
    edge: EdgeDep,
) -> AuthRead:
    """Create an account and sign it in."""
    _check_origin(request, edge)
    user = await accounts.sign_up(
        db, edge.hasher, name=body.name, email=body.email, password=body.password
    )
    return await _signed_in(db, edge, request, response, user)


@router.post(
    "/login",
    responses={401: {"description": "Wrong credentials or code"}, 429: {}},
)
async def log_in(
    body: LoginCreate,
    request: Request,
    response: Response,
    db: GatewayDb,
    edge: EdgeDep,
) -> AuthRead:
    """Sign in with email and password, and a code when two-factor is on.

    A wrong email and a wrong password get the same answer. Repeated failures
    are answered 429 with ``Retry-After`` for a while.
    """
    _check_origin(request, edge)
    try:
        user = await accounts.sign_in(
            db,
            edge.hasher,
            edge.throttle,
            edge.runtime.secrets.master_keys,
            email=body.email,
            password=body.password,
            address=_client_address(request),
            second_factor=accounts.SecondFactor(body.code, body.recovery_code),
        )
    except (InvalidCredentials, InvalidSecondFactor):
        await _audit_failed_login(edge, body.email)
        raise
    signed_in = await _signed_in(db, edge, request, response, user)
    # Committed first: the audit entries take connections of their own.
    await db.commit()
    await record_for_user(edge.runtime.sessions, user.id, AuditAction.LOGIN)
    return signed_in


async def _audit_failed_login(edge: Edge, email: str) -> None:
    async with unit_of_work(edge.runtime.sessions) as db:
        user = await repository.user_by_email(db, accounts.normalise_email(email))
    if user is not None:
        await record_for_user(edge.runtime.sessions, user.id, AuditAction.LOGIN_FAILED)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def log_out(
    principal: SignedIn, response: Response, db: GatewayDb, edge: EdgeDep
) -> None:
    """End this browser's session."""
    assert principal.user and principal.session
    await repository.end_sessions(
        db, principal.user.id, now=accounts.utcnow(), only=principal.session.id
    )
    response.delete_cookie(edge.cookies.name, path="/", secure=edge.cookies.secure)


@router.get("/me")
async def me(principal: SignedIn, request: Request, edge: EdgeDep) -> AuthRead:
    """The signed-in user, and the CSRF token for this session."""
    assert principal.user
    token: bytes = request.state.session_token
    return AuthRead(
        user=user_read(principal.user), csrf_token=edge.cookies.csrf_token(token)
    )


@router.post("/password")
async def change_password(
    body: PasswordUpdate, principal: SignedIn, db: GatewayDb, edge: EdgeDep
) -> SessionsEnded:
    """Change the password; every other session of this user ends at once."""
    assert principal.user and principal.session
    ended = await accounts.change_password(
        db,
        edge.hasher,
        principal.user,
        current_session=principal.session.id,
        current_password=body.current_password,
        new_password=body.new_password,
    )
    await db.commit()
    await record_for_user(
        edge.runtime.sessions, principal.user.id, AuditAction.PASSWORD_CHANGED
    )
    return SessionsEnded(ended=ended)


def _session_read(session: LoginSession, current: uuid.UUID) -> SessionRead:
    return SessionRead(
        id=session.id,
        created_at=session.created_at,
        last_seen_at=session.last_seen_at,
        expires_at=session.expires_at,
        user_agent=session.user_agent,
        current=session.id == current,
    )


@router.get("/sessions")
async def list_sessions(principal: SignedIn, db: GatewayDb) -> list[SessionRead]:
    """The user's open sessions, newest first."""
    assert principal.user and principal.session
    found = await repository.sessions_of(db, principal.user.id)
    return [_session_read(session, principal.session.id) for session in found]


@router.delete("/sessions/{session_id}", status_code=status.HTTP_204_NO_CONTENT)
async def end_session(
    session_id: uuid.UUID, principal: SignedIn, db: GatewayDb, edge: EdgeDep
) -> None:
    """End one of the user's sessions, this one included."""
    assert principal.user
    ended = await repository.end_sessions(
        db, principal.user.id, now=accounts.utcnow(), only=session_id
    )
    if not ended:
        raise SessionNotFound()
    await db.commit()
    await record_for_user(
        edge.runtime.sessions, principal.user.id, AuditAction.SESSION_ENDED
    )


@router.post("/sessions/revoke-others")
async def end_other_sessions(
    principal: SignedIn, db: GatewayDb, edge: EdgeDep
) -> SessionsEnded:
    """End every session of the user but this one."""
    assert principal.user and principal.session
    ended = await repository.end_sessions(
        db, principal.user.id, now=accounts.utcnow(), keep=principal.session.id
    )
    await db.commit()
    await record_for_user(
        edge.runtime.sessions, principal.user.id, AuditAction.SESSION_ENDED, count=ended
    )
    return SessionsEnded(ended=ended)
