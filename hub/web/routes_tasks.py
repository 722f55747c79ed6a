"""Tasks in the dashboard and the API: the Tasks page, a place's panel, figures and exports."""

from fastapi import APIRouter

router = APIRouter()
