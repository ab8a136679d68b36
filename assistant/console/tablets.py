"""Coordinators' page for residents' tablets: pairing with a code, and unpairing."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import Response

from assistant.console.auth import MOST_FIELD_CHARACTERS, signed_in
from assistant.console.rendering import PREFIX, go_to, page
from assistant.devices import (
    CODE_LIFETIME,
    get_device,
    new_pairing_code,
    paired_devices,
    unpair_device,
)
from assistant.residents import find_by_phone, normalise_phone
from assistant.volunteers import Session

logger = logging.getLogger(__name__)

TABLETS = PREFIX + "/tablets"
SAID = {
    "unpaired": "The tablet is unpaired: it can no longer see the resident's data.",
    "unknown": "That tablet is no longer paired.",
}


def tablets_page_for(
    request: Request,
    code=None,
    resident=None,
    form: dict | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    context = {
        "devices": paired_devices(request.app.state.db),
        "code": code,
        "resident": resident,
        "minutes": int(CODE_LIFETIME.total_seconds() // 60),
        "tablet_url": request.app.state.settings.public_url + "/",
        "form": form or {"phone": "", "label": ""},
        "error": error,
        "said": SAID.get(request.query_params.get("said", "")),
    }
    return page(request, "tablets.html", context, status_code)


@signed_in(coordinator=True)
async def tablets_page(request: Request, session: Session) -> Response:
    """GET /console/tablets: the paired tablets, and a form to pair another."""
    return tablets_page_for(request)


@signed_in(coordinator=True)
async def pair_submit(request: Request, session: Session) -> Response:
    """POST /console/tablets: a one-time code for the resident with this number,
    shown once on the page that answers (never in a URL)."""
    form = await request.form()
    fields = {
        name: str(form.get(name, ""))[:MOST_FIELD_CHARACTERS].strip()
        for name in ("phone", "label")
    }
    phone = normalise_phone(fields["phone"])
    resident = find_by_phone(request.app.state.db, phone) if phone else None
    if resident is None:
        return tablets_page_for(
            request,
            form=fields,
            error="No resident has that phone number. Check it, for example "
            "07700 900123.",
            status_code=400,
        )
    code = new_pairing_code(
        request.app.state.db, resident.id, session.volunteer.id, fields["label"]
    )
    logger.info("coordinator %s made a tablet pairing code", session.volunteer.id)
    return tablets_page_for(request, code=code, resident=resident)


@signed_in(coordinator=True)
async def unpair_submit(request: Request, session: Session) -> Response:
    """POST /console/tablets/{id}/unpair: the tablet's token stops working."""
    device = get_device(request.app.state.db, int(request.path_params["device_id"]))
    if device is None or not unpair_device(request.app.state.db, device.id):
        return go_to(TABLETS, "unknown")
    logger.info("tablet %s unpaired by coordinator %s", device.id, session.volunteer.id)
    return go_to(TABLETS, "unpaired")
