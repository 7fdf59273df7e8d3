"""HTTP routes of the deletion service, all under ``/api/orgs/{org_id}/``."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/orgs/{org_id}")
