"""The resident's tablet: the page at /, its JSON API, and the routes of both.

A tablet is paired to one resident (assistant.devices) and carries its device
token in a cookie (HttpOnly, SameSite=Strict). Everything under /tablet/api
answers only a paired tablet, and only with its own resident's data; a POST
must also carry the `X-Helping-Hands: tablet` header, which another site's
page cannot send without our leave, and the WebSocket checks its Origin.

Words (spoken, or the resident's buttons "Read my basket", "Place my order",
"Talk to a person") go through the conversation router exactly as an SMS
does, stored first under a per-message id from the tablet so that a request
retried on a poor connection is answered once. The + and - buttons and the
aisles change the basket directly, and the resident is told in words what
changed. Every reply comes with a URL of its speech, made in the background.

The microphone's WebSocket, /tablet, is in assistant.channels.tablet_listening.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from starlette.requests import HTTPConnection, Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles

from assistant import messages
from assistant.basket import (
    basket_lines,
    basket_total,
    quantity_in_basket,
    set_quantity,
)
from assistant.catalogue import Product, catalogue_version, find_product, load_products
from assistant.conversation import holds
from assistant.devices import (
    Device,
    PairingRefused,
    device_for_token,
    pair_directly,
    pair_with_code,
)
from assistant.handoffs import active_handoff
from assistant.residents import Resident, find_by_phone, get_resident
from assistant.spoken import spoken
from assistant.volunteers import get_volunteer
from assistant.wording import basket_summary, describe_product, item_count, money
from voice.audio import read_wav
from voice.errors import VoiceError

logger = logging.getLogger(__name__)

CHANNEL = "tablet"
STATIC = Path(__file__).with_name("tablet_static")
DEVICE_COOKIE = "hh_tablet"
COOKIE_SECONDS = 400 * 24 * 3600  # the longest a browser keeps a cookie
CSRF_HEADER = "x-helping-hands"
CLIENT_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")
MOST_TEXT_CHARACTERS = 500
MOST_BODY_BYTES = 8 * 1024
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
SPEECH_TRIES = 4
SPOKEN_KEPT = 64  # replies whose speech a tablet may still fetch
DUPLICATE_WAIT_SECONDS = 15.0
NOT_HEARD = (
    "Sorry, I didn't hear anything. Tap the microphone and speak, or use the buttons."
)
SORRY = (
    "I'm sorry, something went wrong. Please try again in a moment, "
    'or tap "Talk to a person".'
)
PASSED_ON = "Thank you. I've passed that on to the volunteer."
NO_SPEECH = (
    "I can't listen just now. You can still use the buttons, "
    'or tap "Talk to a person".'
)
PAIRING_WORDS = {
    "pairing-code-wrong": (
        "That code didn't work. Codes work once, for 15 minutes. "
        "Please check it, or ask for a new one."
    ),
    "pairing-rate-limited": (
        "Too many codes were tried. Please wait a quarter of an hour and try again."
    ),
}
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; "
        "img-src 'self' data:; media-src 'self' blob:; connect-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "microphone=(self)",
}
# A reply that asks "which one?" offers its options as buttons; one that asks
# a yes-or-no question offers Yes and No, so nothing needs typing or speaking.
CHOICE = re.compile(r"would you like:\s*(?P<options>[^?]+)\?\s*$", re.IGNORECASE)
YES_OR_NO = re.compile(
    r"^(shall i|should i|would you|do you want|did you mean|is that|are you sure)\b",
    re.IGNORECASE,
)


# ----------------------------------------------------------------- state


@dataclass
class SpokenReply:
    """A reply's speech, being made or made, for one resident only."""

    resident_id: str
    task: asyncio.Task


@dataclass
class TabletState:
    """What the tablet channel keeps between requests, on `app.state.tablet`."""

    spoken: OrderedDict[str, SpokenReply] = field(default_factory=OrderedDict)
    aisles: tuple[str, dict[str, list[Product]]] | None = None


def tablet_state(connection: HTTPConnection) -> TabletState:
    state = connection.app.state
    if not hasattr(state, "tablet"):
        state.tablet = TabletState()
    return state.tablet


# ---------------------------------------------------------- who is asking


def current_device(connection: HTTPConnection) -> Device | None:
    return device_for_token(
        connection.app.state.db, connection.cookies.get(DEVICE_COOKIE)
    )


def client_address(connection: HTTPConnection) -> str:
    """The client's address; behind a reverse proxy on this machine, the one
    the proxy says it forwarded for."""
    host = connection.client.host if connection.client else "unknown"
    forwarded = connection.headers.get("x-forwarded-for", "")
    if host in LOCAL_HOSTS and forwarded:
        return forwarded.split(",")[-1].strip() or host
    return host


def demo_offered(connection: HTTPConnection) -> bool:
    """Whether to offer the demo resident: only on a local trial, that is with
    a local HH_PUBLIC_URL, a request from this machine that no proxy passed
    on, and a Host header naming this machine (so no other site's page can
    reach it through a name that points here)."""
    settings = connection.app.state.settings
    public_host = urlsplit(settings.public_url).hostname or ""
    host_header = urlsplit("//" + connection.headers.get("host", "")).hostname or ""
    client = connection.client.host if connection.client else ""
    return (
        public_host in LOCAL_HOSTS
        and host_header in LOCAL_HOSTS
        and client in LOCAL_HOSTS
        and "x-forwarded-for" not in connection.headers
    )


def demo_resident(connection: HTTPConnection) -> Resident | None:
    from assistant.cli import DEMO_RESIDENT

    return find_by_phone(connection.app.state.db, DEMO_RESIDENT[0])


def same_origin(connection: HTTPConnection) -> bool:
    """Whether the Origin header (a browser always sends one on a WebSocket)
    names the host the request was sent to."""
    origin = connection.headers.get("origin")
    if origin is None:
        return False
    return urlsplit(origin).netloc == connection.headers.get("host", "")


def answer(data: dict, status_code: int = 200) -> JSONResponse:
    return JSONResponse(data, status_code, headers=SECURITY_HEADERS)


def refused() -> JSONResponse:
    return answer({"paired": False, "error": "This tablet is not paired."}, 401)


def set_device_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        DEVICE_COOKIE,
        token,
        max_age=COOKIE_SECONDS,
        path="/",
        secure=request.app.state.settings.public_url.startswith("https://"),
        httponly=True,
        samesite="strict",
    )


async def json_body(request: Request) -> dict | None:
    """The POST's JSON object, if it is one, is small, and carries our header."""
    if request.headers.get(CSRF_HEADER) != "tablet":
        return None
    body = await request.body()
    if len(body) > MOST_BODY_BYTES:
        return None
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def client_id(data: dict) -> str | None:
    value = data.get("id")
    return value if isinstance(value, str) and CLIENT_ID.fullmatch(value) else None


# ------------------------------------------------------------ what is shown


def basket_view(db, resident_id: str) -> dict:
    """The basket as the page shows it."""
    lines = basket_lines(db, resident_id)
    return {
        "lines": [
            {
                "sku": line.product.sku,
                "name": line.product.name,
                "size": line.product.size,
                "quantity": line.quantity,
                "price_pence": line.product.price_pence,
                "price": money(line.product.price_pence),
                "total": money(line.total_pence),
            }
            for line in lines
        ],
        "count": item_count(lines),
        "total": money(basket_total(lines)),
        "summary": basket_summary(lines),
    }


def answers_offered(reply: str) -> list[dict]:
    """The buttons to offer under a reply that asks a question."""
    sentences = re.split(r"(?<=[.!?])\s+|\n", reply.strip())
    # The question is the last sentence, or the one before a "Please say
    # yes or no."
    questions = [each for each in sentences[-2:] if each.endswith("?")]
    if not questions:
        return []
    last = questions[-1]
    choice = CHOICE.search(last)
    if choice:
        options = re.split(r",\s*(?:or\s+)?|\s+or\s+", choice.group("options"))
        labels = [o.strip() for o in options if o.strip()]
        labels = [o for o in labels if o.lower() != "something else"]
        return [{"label": o[:1].upper() + o[1:], "say": o} for o in labels[:8]]
    if YES_OR_NO.match(last):
        return [{"label": "Yes", "say": "yes"}, {"label": "No", "say": "no"}]
    return []


def person_status(db, resident_id: str) -> dict:
    """Whether a person has the conversation, and who, for the page to say."""
    handoff = active_handoff(db, resident_id)
    if handoff is None or not holds(handoff):
        return {"held": False, "volunteer": None}
    volunteer = None
    if handoff.claimed_by is not None:
        found = get_volunteer(db, handoff.claimed_by)
        volunteer = found.display_name if found else None
    return {"held": True, "volunteer": volunteer}


def is_tap(body: str) -> bool:
    return body.startswith("Tapped: ")


def last_exchange(db, resident_id: str) -> dict:
    """What the resident last said, on any channel, and what came back since."""
    recent = messages.transcript(db, resident_id, limit=30)
    said, replies = None, []
    for message in reversed(recent):
        if message["direction"] == "in":
            if not is_tap(message["body"]):
                said = message["body"]
            break
        replies.insert(0, {"text": message["body"], "volunteer": message["volunteer"]})
    return {"said": said, "replies": replies}


def speech_url(connection: HTTPConnection, resident_id: str, text: str) -> str | None:
    """Start making the speech of `text`; the URL the tablet fetches it from."""
    words = "\n".join(spoken(line) for line in text.split("\n") if line.strip())
    if not words.strip():
        return None
    state = tablet_state(connection)
    speech_id = uuid.uuid4().hex
    task = asyncio.create_task(synthesise(connection.app.state.speech, words))
    state.spoken[speech_id] = SpokenReply(resident_id, task)
    while len(state.spoken) > SPOKEN_KEPT:
        _, oldest = state.spoken.popitem(last=False)
        oldest.task.cancel()
    return f"/tablet/api/speech/{speech_id}"


async def synthesise(service, words: str) -> bytes | None:
    """The words as a WAV the browser plays, or None if they cannot be said.

    NOTE: pyttsx3's espeak driver sometimes returns before it has written its
    file (more often under load, and for longer lines), so a failed line is
    tried again, and a line whose cached file is unreadable is made afresh.
    """
    try:
        synthesis = (await service.engines()).synthesis
    except VoiceError:
        logger.warning("no speech engines for the tablet's reply")
        return None
    for _ in range(SPEECH_TRIES):
        try:
            speech = await asyncio.to_thread(synthesis.speak, words)
            return speech.tablet_wav()
        except VoiceError as error:
            logger.warning("tablet speech failed (%s); trying again", error.code)
            logger.debug("the speech engine said: %s", error)
        except ValueError:
            logger.warning("a cached spoken line was unreadable; making it again")
            forget_broken_lines(synthesis, words)
    return None


def forget_broken_lines(synthesis, words: str) -> None:
    for line in words.split("\n"):
        path = synthesis.line_path(line.strip())
        try:
            read_wav(path.read_bytes())
        except (OSError, ValueError):
            path.unlink(missing_ok=True)


def reply_view(
    connection: HTTPConnection,
    resident_id: str,
    replies: list[str],
    said: str | None = None,
) -> dict:
    """A turn's answer: the words, the buttons, the basket, the speech."""
    db = connection.app.state.db
    person = person_status(db, resident_id)
    if not replies and person["held"]:
        # While a volunteer holds the conversation the assistant stays quiet;
        # the resident still needs to know their words went somewhere.
        replies = [PASSED_ON]
    text = "\n".join(replies)
    return {
        "said": said,
        "replies": [{"text": reply, "volunteer": None} for reply in replies],
        "answers": answers_offered(replies[-1]) if replies else [],
        "basket": basket_view(db, resident_id),
        "person": person,
        "speech_url": speech_url(connection, resident_id, text) if text else None,
        "latest_id": messages.latest_message_id(db, resident_id),
    }


# ------------------------------------------------------------- the page


async def tablet_page(request: Request) -> Response:
    """GET /: the tablet's page (its data comes from /tablet/api/state)."""
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    return HTMLResponse(html, headers=SECURITY_HEADERS)


async def state_endpoint(request: Request) -> Response:
    """GET /tablet/api/state: who this tablet is for, the basket, the aisles'
    names and the last exchange; for an unpaired tablet only how to pair."""
    device = current_device(request)
    db = request.app.state.db
    resident = get_resident(db, device.resident_id) if device else None
    if device is None or resident is None:
        offered = demo_offered(request) and demo_resident(request) is not None
        return answer({"paired": False, "demo": offered}, 401)
    exchange = last_exchange(db, resident.id)
    last_reply = exchange["replies"][-1]["text"] if exchange["replies"] else ""
    response = answer(
        {
            "paired": True,
            "name": (resident.name or "").split(" ")[0] or None,
            "basket": basket_view(db, resident.id),
            "aisles": list(aisles_of(request)),
            "said": exchange["said"],
            "replies": exchange["replies"],
            "answers": answers_offered(last_reply),
            "person": person_status(db, resident.id),
            "latest_id": messages.latest_message_id(db, resident.id),
        }
    )
    # The cookie's life starts again with every visit: a tablet in use stays
    # paired until a coordinator unpairs it.
    set_device_cookie(request, response, request.cookies[DEVICE_COOKIE])
    return response


async def pair_endpoint(request: Request) -> Response:
    """POST /tablet/api/pair {"code": "123456"}: pair this tablet."""
    data = await json_body(request)
    if data is None:
        return answer({"error": "Bad request."}, 400)
    try:
        _, token = pair_with_code(
            request.app.state.db,
            str(data.get("code", ""))[:20],
            client_address(request),
        )
    except PairingRefused as refusal:
        status_code = 429 if refusal.code == "pairing-rate-limited" else 403
        return answer({"error": PAIRING_WORDS[refusal.code]}, status_code)
    response = answer({"paired": True})
    set_device_cookie(request, response, token)
    return response


async def demo_endpoint(request: Request) -> Response:
    """POST /tablet/api/demo: pair this browser to the demo resident, only on a
    local trial (see demo_offered)."""
    data = await json_body(request)
    resident = demo_resident(request)
    if data is None or not demo_offered(request) or resident is None:
        return answer({"error": "The demo is only offered on a local trial."}, 403)
    _, token = pair_directly(request.app.state.db, resident.id, "Demo on this computer")
    response = answer({"paired": True})
    set_device_cookie(request, response, token)
    return response


def aisles_of(connection: HTTPConnection) -> dict[str, list[Product]]:
    """The shop's aisles in the shop's order, each with its products."""
    db = connection.app.state.db
    state = tablet_state(connection)
    version = catalogue_version(db)
    if state.aisles is None or state.aisles[0] != version:
        grouped: dict[str, list[Product]] = {}
        for product in load_products(db):
            grouped.setdefault(product.aisle, []).append(product)
        state.aisles = (version, grouped)
    return state.aisles[1]


async def aisle_endpoint(request: Request) -> Response:
    """GET /tablet/api/aisle?name=...: the products of one aisle."""
    if current_device(request) is None:
        return refused()
    name = request.query_params.get("name", "")
    products = aisles_of(request).get(name)
    if products is None:
        return answer({"error": "There is no such aisle."}, 404)
    return answer(
        {
            "name": name,
            "products": [
                {
                    "sku": p.sku,
                    "name": p.name,
                    "size": p.size,
                    "price_pence": p.price_pence,
                    "price": money(p.price_pence),
                }
                for p in products
            ],
        }
    )


# --------------------------------------------------------- words and taps


async def take_words(
    connection: HTTPConnection,
    device: Device,
    text: str,
    message_id: str,
    said: str | None = None,
) -> dict:
    """The resident's words through the router, once per message id."""
    state = connection.app.state
    db = state.db
    resident = get_resident(db, device.resident_id)
    provider_id = f"tablet-{device.id}-{message_id}"
    inbound_id, is_new = messages.record_inbound(
        db, CHANNEL, provider_id, resident.id, text
    )
    if not is_new:
        replies = await stored_replies(db, inbound_id)
        return reply_view(connection, resident.id, replies, said)
    logger.info("tablet %s: words from its resident", device.id)
    logger.debug("tablet %s said %r", device.id, text)
    try:
        replies = await state.router.handle(resident, text, CHANNEL, inbound_id)
    except asyncio.CancelledError:
        raise
    except Exception:  # noqa: BLE001 - the resident must always get an answer
        logger.exception("the tablet's words could not be answered")
        messages.record_outbound(db, resident.id, CHANNEL, SORRY, inbound_id)
        messages.set_status(db, inbound_id, "failed")
        replies = [SORRY]
    return reply_view(connection, resident.id, replies, said)


async def stored_replies(db, inbound_id: int) -> list[str]:
    """The replies to a message already taken; waits while it is being answered
    (a request retried while the first was still with the assistant)."""
    waited = 0.0
    while messages.message_status(db, inbound_id) == "received":
        if waited >= DUPLICATE_WAIT_SECONDS:
            break
        await asyncio.sleep(0.25)
        waited += 0.25
    return messages.replies_to(db, inbound_id)


async def say_endpoint(request: Request) -> Response:
    """POST /tablet/api/say {"id": ..., "text": ...}: the resident's words, from
    a button or a quick answer, through the router."""
    device = current_device(request)
    if device is None:
        return refused()
    data = await json_body(request)
    message_id = client_id(data or {})
    text = str((data or {}).get("text", "")).strip()[:MOST_TEXT_CHARACTERS]
    if message_id is None or not text:
        return answer({"error": "Bad request."}, 400)
    return answer(await take_words(request, device, text, message_id))


def words_for_change(product: Product, before: int, after: int) -> str:
    """ "Added 1 Baked Beans (415g). You have 3 now." and the like."""
    described = f"{product.name} ({product.size})"
    if after > before:
        said = f"Added {describe_product(product, after - before)}."
        return said + (f" You have {after} now." if before else "")
    if after == 0 and before > 0:
        return f"I've taken {described} out of your basket."
    if after < before:
        taken = describe_product(product, before - after)
        return f"I've taken out {taken}. You have {after} now."
    if after == 0:
        return f"There is no {described} in your basket."
    return f"You have {describe_product(product, after)}."


async def basket_endpoint(request: Request) -> Response:
    """POST /tablet/api/basket {"id": ..., "sku": ..., "quantity": N}: set how
    many of a product, from + and - or an aisle; the answer says what changed.

    The quantity is the number wanted, not a change, so a retried request
    leaves the basket as the resident meant it.
    """
    device = current_device(request)
    if device is None:
        return refused()
    data = await json_body(request) or {}
    message_id = client_id(data)
    quantity = data.get("quantity")
    product = find_product(request.app.state.db, str(data.get("sku", ""))[:40])
    if message_id is None or not isinstance(quantity, int):
        return answer({"error": "Bad request."}, 400)
    if product is None:
        return answer({"error": "Sorry, that product is no longer in the shop."}, 404)
    state = request.app.state
    db = state.db
    quantity = max(0, min(quantity, state.settings.max_quantity))
    provider_id = f"tablet-{device.id}-{message_id}"
    body = f"Tapped: {quantity} of {product.name} ({product.size}) in the basket"
    inbound_id, is_new = messages.record_inbound(
        db, CHANNEL, provider_id, device.resident_id, body
    )
    if not is_new:
        replies = await stored_replies(db, inbound_id)
        return answer(reply_view(request, device.resident_id, replies))
    before = quantity_in_basket(db, device.resident_id, product.sku)
    set_quantity(db, device.resident_id, product.sku, quantity)
    said = words_for_change(product, before, quantity)
    summary = basket_summary(basket_lines(db, device.resident_id))
    reply = f"{said} {summary}"
    messages.record_outbound(db, device.resident_id, CHANNEL, reply, inbound_id)
    messages.set_status(db, inbound_id, "answered")
    handoff = active_handoff(db, device.resident_id)
    if handoff is not None and state.notifier is not None:
        state.notifier.conversation_changed(handoff.id)
    logger.info("tablet %s changed its basket", device.id)
    return answer(reply_view(request, device.resident_id, [reply]))


async def updates_endpoint(request: Request) -> Response:
    """GET /tablet/api/updates?after=ID: volunteers' messages since message ID
    (each with its speech), the basket and who has the conversation."""
    device = current_device(request)
    if device is None:
        return refused()
    try:
        after = int(request.query_params.get("after", "0"))
    except ValueError:
        after = 0
    db = request.app.state.db
    resident_id = device.resident_id
    found = messages.volunteer_messages_after(db, resident_id, after)
    return answer(
        {
            "messages": [
                {
                    "id": message["id"],
                    "text": message["body"],
                    "volunteer": message["volunteer"],
                    "speech_url": speech_url(request, resident_id, message["body"]),
                }
                for message in found
            ],
            "basket": basket_view(db, resident_id),
            "person": person_status(db, resident_id),
            "latest_id": max([after, *(m["id"] for m in found)]),
        }
    )


async def speech_endpoint(request: Request) -> Response:
    """GET /tablet/api/speech/{id}: a reply's speech, to its own tablet only."""
    device = current_device(request)
    if device is None:
        return refused()
    reply = tablet_state(request).spoken.get(request.path_params["speech_id"])
    if reply is None or reply.resident_id != device.resident_id:
        return Response(status_code=404, headers=SECURITY_HEADERS)
    wav = await asyncio.shield(reply.task)
    if not wav:
        return Response(status_code=404, headers=SECURITY_HEADERS)
    return Response(
        wav,
        media_type="audio/wav",
        headers={**SECURITY_HEADERS, "Cache-Control": "private, max-age=600"},
    )


def tablet_routes() -> list[BaseRoute]:
    """The tablet's page, API, speech, static files and WebSocket."""
    from assistant.channels.tablet_listening import tablet_socket

    api = "/tablet/api"
    post = ["POST"]
    return [
        Route("/", tablet_page),
        Route(api + "/state", state_endpoint),
        Route(api + "/pair", pair_endpoint, methods=post),
        Route(api + "/demo", demo_endpoint, methods=post),
        Route(api + "/aisle", aisle_endpoint),
        Route(api + "/say", say_endpoint, methods=post),
        Route(api + "/basket", basket_endpoint, methods=post),
        Route(api + "/updates", updates_endpoint),
        Route(api + "/speech/{speech_id:str}", speech_endpoint),
        Mount("/tablet/static", StaticFiles(directory=STATIC), name="tablet-static"),
        WebSocketRoute("/tablet", tablet_socket),
    ]
