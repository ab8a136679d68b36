"""The gateway: a Starlette app owning every channel, the store and the router."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute

from assistant.body_limit import BodyLimit
from assistant.catalogue import seed_demo_catalogue
from assistant.channels.media_stream import media_stream
from assistant.channels.scheduled_calls import (
    REMINDERS_EVERY_SECONDS,
    booked_call_webhook,
    tend_booked_calls,
)
from assistant.channels.sms import (
    recover_interrupted_sms,
    replay_interrupted_sms,
    replay_sms,
    sms_webhook,
)
from assistant.channels.tablet import tablet_routes
from assistant.channels.twilio_rest import TwilioRestClient
from assistant.channels.voice import (
    after_stream_webhook,
    dial_done_webhook,
    gather_webhook,
    replay_call,
    replay_dial_done,
    replay_gather,
    replay_status,
    status_webhook,
    voice_webhook,
)
from assistant.config import Settings, load_settings
from assistant.console import console_routes
from assistant.console.busy import BusyStorePage
from assistant.conversation import ConversationRouter
from assistant.events import Broadcaster
from assistant.notify import Notifier
from assistant.outbound import send_due
from assistant.privacy import apply_retention
from assistant.rasa_client import RasaClient
from assistant.speech import SpeechService
from assistant.spool import DRAIN_EVERY_SECONDS, WebhookSpool, replay_spool
from assistant.store import open_database, utc_now

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


SEND_EVERY_SECONDS = 5
RETENTION_EVERY_SECONDS = 6 * 3600
# How each kind of spooled webhook is taken once the store is free again.
REPLAYERS = {
    "sms": replay_sms,
    "sms-interrupted": replay_interrupted_sms,
    "call": replay_call,
    "gather": replay_gather,
    "status": replay_status,
    "dial-done": replay_dial_done,
}


async def keep_sending(app: Starlette) -> None:
    """Send queued messages as they fall due, for as long as the gateway runs."""
    while True:
        try:
            # While the store is busy, waiting on its lock would hold up the
            # webhooks that share this event loop: the sender waits instead.
            if not app.state.spool.store_busy:
                await send_due(app.state.db, app.state.twilio)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - the sender must outlive any one failure
            logger.exception("sending queued messages failed; trying again soon")
        await asyncio.sleep(SEND_EVERY_SECONDS)


async def recover_cut_off_texts(app: Starlette, started_at: str) -> None:
    """Once, at start-up: texts whose turn a stop cut off go to a person."""
    try:
        await recover_interrupted_sms(app.state, started_at)
    except Exception:  # noqa: BLE001 - start-up must not fail on this
        logger.exception("looking for texts cut off by a stop failed")


async def keep_to_retention(app: Starlette) -> None:
    """Delete old transcripts at start-up and every few hours after."""
    settings = app.state.settings
    while True:
        try:
            apply_retention(
                app.state.db,
                settings.tracker_database_path,
                settings.voice_dir,
                settings.retention_days,
                spool_dir=settings.data_dir,
            )
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - retention must not stop the gateway
            logger.exception("deleting old transcripts failed; trying again later")
        await asyncio.sleep(RETENTION_EVERY_SECONDS)


async def keep_replaying_spool(app: Starlette) -> None:
    """Take the webhooks kept while the store was busy, once it is free."""
    while True:
        try:
            await replay_spool(app.state, REPLAYERS)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - the spool must outlive any one failure
            logger.exception("replaying the spool failed; trying again soon")
        await asyncio.sleep(DRAIN_EVERY_SECONDS)


async def keep_calls_on_time(app: Starlette) -> None:
    """Send call reminders as they fall due, and keep regular calls booked
    ahead (once a day), for as long as the gateway runs."""
    extended_on = None
    while True:
        try:
            if not app.state.spool.store_busy:
                extended_on = await tend_booked_calls(app.state, extended_on)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - reminders must outlive any one failure
            logger.exception("call reminders failed; trying again soon")
        await asyncio.sleep(REMINDERS_EVERY_SECONDS)


def create_app(
    settings: Settings | None = None,
    twilio_transport: httpx.AsyncBaseTransport | None = None,
) -> Starlette:
    """Build the gateway; nothing is opened until the app starts.

    Args:
        settings: the settings; read from the environment when not given.
        twilio_transport: an httpx transport for Twilio's REST API. Tests
            pass one that records requests, as Twilio cannot be reached here.
    """

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        state = app.state
        state.settings = settings or load_settings()
        state.db = open_database(state.settings.database_path)
        seed_demo_catalogue(state.db)
        state.rasa = RasaClient(
            state.settings.rasa_url,
            state.settings.rasa_token(),
            state.settings.rasa_timeout_seconds,
        )
        state.twilio = (
            TwilioRestClient(
                state.settings.twilio_account_sid or "",
                state.settings.twilio_auth_token or "",
                state.settings.twilio_number or "",
                transport=twilio_transport,
            )
            if state.settings.twilio_ready
            else None
        )
        state.events = Broadcaster()
        state.notifier = Notifier(
            state.db, state.events, state.twilio, state.settings.console_url
        )
        state.router = ConversationRouter(
            state.db, state.rasa, state.settings, state.notifier
        )
        state.speech = SpeechService(state.settings)
        if state.settings.phone_speech == "local":
            state.speech.start()
        state.after_stream = {}
        state.spool = WebhookSpool(state.settings.data_dir)
        started_at = utc_now()
        background = [
            asyncio.create_task(recover_cut_off_texts(app, started_at)),
            asyncio.create_task(keep_replaying_spool(app)),
            asyncio.create_task(keep_sending(app)),
            asyncio.create_task(keep_to_retention(app)),
            asyncio.create_task(keep_calls_on_time(app)),
        ]
        logger.info("gateway ready")
        yield
        for task in background:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await state.speech.stop()
        await state.rasa.close()
        state.db.close()

    routes = [
        Route("/healthz", healthz),
        Route("/twilio/sms", sms_webhook, methods=["POST"]),
        Route("/twilio/voice", voice_webhook, methods=["POST"]),
        Route("/twilio/voice/gather", gather_webhook, methods=["POST"]),
        Route("/twilio/voice/dial-done", dial_done_webhook, methods=["POST"]),
        Route("/twilio/voice/status", status_webhook, methods=["POST"]),
        Route("/twilio/calls/dial-done", booked_call_webhook, methods=["POST"]),
        Route("/twilio/voice/after-stream", after_stream_webhook, methods=["POST"]),
        WebSocketRoute("/twilio/media", media_stream),
        *console_routes(),
        *tablet_routes(),
    ]
    return Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[Middleware(BodyLimit), Middleware(BusyStorePage)],
    )
