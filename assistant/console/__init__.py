"""The volunteer console at /console: sign in, the queue, conversations."""

from pathlib import Path

from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from assistant.console import (
    auth,
    availability,
    calls,
    conversation,
    live,
    outbox,
    queue,
    residents,
    shopping,
    tablets,
    team,
)

STATIC = Path(__file__).parent / "static"


def console_routes() -> list[BaseRoute]:
    """The console's routes, mounted by the gateway."""
    post = ["POST"]
    handoff = "/handoffs/{handoff_id:int}"
    pages = [
        Route("/", queue.queue_page),
        Route("/queue", queue.queue_fragment),
        Route("/events", live.events),
        Route("/sign-in", auth.sign_in_page),
        Route("/sign-in", auth.sign_in_submit, methods=post),
        Route("/sign-out", auth.sign_out_submit, methods=post),
        Route(handoff, conversation.handoff_page),
        Route(handoff + "/transcript", conversation.transcript_fragment),
        Route(handoff + "/status", conversation.status_fragment),
        Route(handoff + "/claim", conversation.claim_submit, methods=post),
        Route(handoff + "/reply", conversation.reply_submit, methods=post),
        Route(handoff + "/notes", conversation.note_submit, methods=post),
        Route(handoff + "/ring-back", conversation.ring_back_submit, methods=post),
        Route(handoff + "/hand-back", conversation.hand_back_submit, methods=post),
        Route(handoff + "/close", conversation.close_submit, methods=post),
        Route(handoff + "/basket/set", shopping.basket_set_submit, methods=post),
        Route(handoff + "/basket/add", shopping.basket_add_submit, methods=post),
        Route(handoff + "/basket/choose", shopping.basket_choose_submit, methods=post),
        Route(handoff + "/order", shopping.order_submit, methods=post),
        Route("/outbox", outbox.outbox_page),
        Route("/outbox/{message_id:int}/retry", outbox.retry_submit, methods=post),
        Route("/team", team.team_page),
        Route("/team", team.add_volunteer_submit, methods=post),
        Route("/team/{volunteer_id:int}/duty", team.duty_submit, methods=post),
        Route("/team/{volunteer_id:int}/remove", team.remove_submit, methods=post),
        Route("/tablets", tablets.tablets_page),
        Route("/tablets", tablets.pair_submit, methods=post),
        Route("/tablets/{device_id:int}/unpair", tablets.unpair_submit, methods=post),
        Route("/residents", residents.residents_page),
        Route("/residents", residents.search_submit, methods=post),
        Route("/residents/{resident_id:str}", residents.resident_page),
        Route(
            "/residents/{resident_id:str}/export",
            residents.export_submit,
            methods=post,
        ),
        Route(
            "/residents/{resident_id:str}/erase", residents.erase_submit, methods=post
        ),
        Route("/calls", calls.calls_page),
        Route("/calls/list", calls.calls_fragment),
        Route("/calls/{booking_id:int}/start", calls.start_submit, methods=post),
        Route("/calls/{booking_id:int}/outcome", calls.outcome_submit, methods=post),
        Route("/availability", availability.own_page),
        Route("/availability/{volunteer_id:int}", availability.availability_page),
        Route(
            "/availability/{volunteer_id:int}/hours",
            availability.add_hours_submit,
            methods=post,
        ),
        Route(
            "/availability/{volunteer_id:int}/hours/{hours_id:int}/remove",
            availability.remove_hours_submit,
            methods=post,
        ),
        Route(
            "/availability/{volunteer_id:int}/away",
            availability.add_days_off_submit,
            methods=post,
        ),
        Route(
            "/availability/{volunteer_id:int}/change",
            availability.add_change_submit,
            methods=post,
        ),
        Route(
            "/availability/{volunteer_id:int}/changes/{change_id:int}/remove",
            availability.remove_change_submit,
            methods=post,
        ),
        Mount("/static", StaticFiles(directory=STATIC), name="console-static"),
    ]
    return [Mount("/console", routes=pages)]
