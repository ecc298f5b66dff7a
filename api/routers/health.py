"""Liveness: answers without credentials, so load balancers and monitors can ask."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from api.bodies import StrictJSONRoute

router = APIRouter(route_class=StrictJSONRoute, tags=["health"])


class Health(BaseModel):
    status: str


@router.get("/health")
def health() -> Health:
    return Health(status="ok")
