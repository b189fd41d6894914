"""Routes of the profile module, one file per capability."""

from fastapi import APIRouter

router = APIRouter()

from usercenter.profile.api import verification  # noqa: E402

router.include_router(verification.router)
