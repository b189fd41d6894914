"""Routes of the profile module, one file per capability."""

from fastapi import APIRouter

from usercenter.profile.api import (
    addresses,
    consents,
    devices,
    extends,
    location,
    payment_password,
    verification,
)

router = APIRouter()
router.include_router(addresses.router)
router.include_router(extends.router)
router.include_router(verification.router)
router.include_router(payment_password.router)
router.include_router(consents.router)
router.include_router(devices.router)
router.include_router(location.router)
