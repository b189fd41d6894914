"""Routes of the profile module, one file per capability."""

from fastapi import APIRouter

router = APIRouter()

from usercenter.profile.api import consents, devices, location  # noqa: E402

router.include_router(consents.router)
router.include_router(devices.router)
router.include_router(location.router)
