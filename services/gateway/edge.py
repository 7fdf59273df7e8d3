"""What the gateway's request handling needs, built once per process."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from fastapi import Request

from services.gateway.accounts.cookies import SessionCookieCodec
from services.gateway.accounts.passwords import PasswordHasher
from services.gateway.accounts.service import SessionPolicy
from services.gateway.accounts.throttle import LoginThrottle
from services.gateway.settings import GatewaySettings
from shared.runtime import Runtime


@dataclass(frozen=True)
class Edge:
    settings: GatewaySettings
    runtime: Runtime
    hasher: PasswordHasher
    cookies: SessionCookieCodec
    throttle: LoginThrottle
    sessions: SessionPolicy


def build_edge(settings: GatewaySettings, runtime: Runtime) -> Edge:
    policy = SessionPolicy(
        idle=timedelta(minutes=settings.session_idle_minutes),
        lifetime=timedelta(hours=settings.session_lifetime_hours),
    )
    return Edge(
        settings=settings,
        runtime=runtime,
        hasher=PasswordHasher(settings.bcrypt_rounds),
        cookies=SessionCookieCodec(
            runtime.secrets.cookie_keys,
            secure=settings.secure_cookies,
            max_age_seconds=int(policy.lifetime.total_seconds()),
        ),
        throttle=LoginThrottle(
            runtime.redis,
            per_account=settings.login_failures_per_account,
            per_address=settings.login_failures_per_address,
            window_seconds=settings.login_throttle_minutes * 60,
        ),
        sessions=policy,
    )


def get_edge(request: Request) -> Edge:
    edge: Edge = request.app.state.edge
    return edge
