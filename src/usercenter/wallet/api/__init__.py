"""Routes of the wallet, one file per audience: the user's own (`me`), the business's services'
(`services`) and the staff's (`staff`)."""

from fastapi import APIRouter

from usercenter.wallet.api import me, services, staff

router = APIRouter()
router.include_router(me.router)
router.include_router(services.router)
router.include_router(staff.router)
