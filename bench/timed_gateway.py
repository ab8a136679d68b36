"""The gateway with the steps of every webhook timed: python -m bench.timed_gateway.

Started by bench.timed_stack in place of `python -m assistant gateway`. Each
request is one line in HH_BENCH_TIMINGS/gateway.jsonl.
"""

from __future__ import annotations

import sqlite_utils

from bench.timings import request_log, wrap


def instrument() -> None:
    """Time the gateway's own steps and its wait for Rasa."""
    from assistant import app, conversation, messages, rasa_client
    from assistant.channels import sms

    steps = [
        (sms, "verified_form", "form and signature", True),
        (sms, "resident_for_phone", "resident looked up", False),
        (messages, "record_inbound", "inbound stored", False),
        (conversation, "active_handoff", "handoff checked", False),
        (conversation, "sounds_like_distress", "distress checked", False),
        (rasa_client.RasaClient, "turn", "Rasa", True),
        (messages, "record_outbound", "replies stored", False),
        (messages, "set_status", "status stored", False),
        (sms, "messaging_twiml", "TwiML", False),
        (sqlite_utils.Database, "execute", "SQLite", False),
    ]
    for owner, attribute, name, asynchronous in steps:
        wrap(owner, attribute, name, asynchronous=asynchronous)
    log = request_log("gateway")
    webhook = sms.sms_webhook

    async def timed_webhook(request):
        with log.request("sms"):
            return await webhook(request)

    app.sms_webhook = timed_webhook


def main() -> None:
    instrument()
    import uvicorn

    from assistant.app import create_app
    from assistant.cli import configure_logging
    from assistant.config import load_settings

    configure_logging(False)
    settings = load_settings()
    # As `helping-hands gateway` runs it (assistant/cli.py, command_gateway).
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        ws="wsproto",
        access_log=False,
        log_config=None,
    )


if __name__ == "__main__":
    main()
