"""Routes of the profile module, one file per capability."""

from fastapi import APIRouter

from usercenter.profile.api import payment_password

router = APIRouter()
router.include_router(payment_password.router)
