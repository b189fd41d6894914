"""Routes of the profile module, one file per capability."""

from fastapi import APIRouter

router = APIRouter()
