"""The two WeChat servers of bench/linking.py, each run by uvicorn in its own process (one
worker: the stub keeps its codes in memory).

- `stub_app`: usercenter's WeChat stub (src/usercenter/providers/stubs/wechat.py) as it is, plus
  POST /_bench/codes {"app_id": ..., "persons": [...]} -> {"codes": [...]}, which mints one
  login code per person in one request, so the bench pre-mints thousands cheaply.
- `constant_app`: GET /sns/jscode2session answered at once with a constant-shaped answer
  derived from the code (openid "o" + code, unionid "u" + code, a fixed session_key): the
  provider call reduced to a local HTTP round trip, the baseline.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from usercenter.providers.stubs import WeChatStub

SESSION_KEY = "YmVuY2hzZXNzaW9ua2V5MA=="  # 16 bytes, base64, as WeChat's are

stub = WeChatStub()
stub_app = stub.app()


async def mint_codes(request: Request) -> Response:
    payload = await request.json()
    app_id = str(payload["app_id"])
    codes = [stub.code_for(app_id, str(person)) for person in payload["persons"]]
    return JSONResponse({"codes": codes})


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


stub_app.router.routes.append(Route("/_bench/codes", mint_codes, methods=["POST"]))
stub_app.router.routes.append(Route("/healthz", healthz))


async def constant_session(request: Request) -> Response:
    code = request.query_params.get("js_code", "")
    return JSONResponse({"openid": "o" + code, "unionid": "u" + code, "session_key": SESSION_KEY})


constant_app = Starlette(
    routes=[Route("/sns/jscode2session", constant_session), Route("/healthz", healthz)]
)
