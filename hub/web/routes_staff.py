"""A task's one-screen page for staff, opened from the signed link in their notification."""

from fastapi import APIRouter

router = APIRouter(prefix="/s", include_in_schema=False)
