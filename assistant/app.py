"""The gateway: a Starlette app owning every channel, the store and the router."""

from __future__ import annotations

import contextlib
import logging

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from assistant.catalogue import seed_demo_catalogue
from assistant.channels.sms import sms_webhook
from assistant.config import Settings, load_settings
from assistant.conversation import ConversationRouter
from assistant.rasa_client import RasaClient
from assistant.store import open_database

logger = logging.getLogger(__name__)


async def healthz(request: Request) -> JSONResponse:
    """200 when the gateway, Rasa and the action server are all ready; else 503."""
    state = request.app.state
    missing = []
    try:
        state.db.execute("SELECT 1").fetchone()
    except Exception:  # noqa: BLE001 - any store failure means not ready
        missing.append("store")
    if not await state.rasa.is_ready():
        missing.append("rasa")
    try:
        async with httpx.AsyncClient(timeout=2.0) as client:
            response = await client.get(state.settings.actions_url + "/health")
            if response.status_code != 200:
                missing.append("actions")
    except httpx.HTTPError:
        missing.append("actions")
    if missing:
        return JSONResponse({"status": "starting", "missing": missing}, 503)
    return JSONResponse({"status": "ok"})


def create_app(settings: Settings | None = None) -> Starlette:
    """Build the gateway; nothing is opened until the app starts."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        app.state.settings = settings or load_settings()
        app.state.db = open_database(app.state.settings.database_path)
        seed_demo_catalogue(app.state.db)
        app.state.rasa = RasaClient(
            app.state.settings.rasa_url,
            app.state.settings.rasa_token(),
            app.state.settings.rasa_timeout_seconds,
        )
        app.state.router = ConversationRouter(app.state.db, app.state.rasa)
        logger.info("gateway ready")
        yield
        await app.state.rasa.close()
        app.state.db.close()

    routes = [
        Route("/healthz", healthz),
        Route("/twilio/sms", sms_webhook, methods=["POST"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)
