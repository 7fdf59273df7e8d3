"""A browser on our front-end, as the gateway tests drive it."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

PASSWORD = "correct horse battery staple"
ORIGIN = "http://127.0.0.1:8000"


class Browser:
    """A browser on our front-end: keeps cookies, sends the CSRF token."""

    def __init__(self, base_url: str) -> None:
        self.http = httpx.AsyncClient(base_url=base_url, headers={"origin": ORIGIN})
        self.csrf_token = ""

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"x-csrf-token": self.csrf_token, **kwargs.pop("headers", {})}
        answer = await self.http.request(method, path, headers=headers, **kwargs)
        if answer.is_success and "csrf_token" in answer.text:
            self.csrf_token = answer.json().get("csrf_token", self.csrf_token)
        return answer

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("GET", path, **kwargs)

    async def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("POST", path, **kwargs)

    async def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("DELETE", path, **kwargs)

    async def sign_up(
        self, email: str | None = None, password: str = PASSWORD
    ) -> dict[str, Any]:
        email = email or f"user-{uuid.uuid4().hex[:10]}@example.com"
        answer = await self.post(
            "/api/auth/signup",
            json={"name": "Ada Lovelace", "email": email, "password": password},
        )
        assert answer.status_code == 201, answer.text
        body: dict[str, Any] = answer.json()
        return body

    async def log_in(
        self, email: str, password: str = PASSWORD, **extra: str
    ) -> httpx.Response:
        return await self.post(
            "/api/auth/login", json={"email": email, "password": password, **extra}
        )

    async def aclose(self) -> None:
        await self.http.aclose()
