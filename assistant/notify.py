"""Telling volunteers: live in the console, and by SMS to whoever is on duty."""

from __future__ import annotations

import logging

import sqlite_utils

from assistant.channels.twilio_rest import TwilioRestClient
from assistant.events import Broadcaster
from assistant.handoffs import Handoff
from assistant.outbound import queue_sms, send_due
from assistant.volunteers import on_duty

logger = logging.getLogger(__name__)


class Notifier:
    """Announces handoffs and new messages to the people who answer them."""

    def __init__(
        self,
        db: sqlite_utils.Database,
        events: Broadcaster,
        twilio: TwilioRestClient | None,
        console_url: str,
    ) -> None:
        self.db = db
        self.events = events
        self.twilio = twilio
        self.console_url = console_url

    async def handoff_opened(self, handoff: Handoff) -> None:
        """A new conversation waits: update every console, text those on duty.

        The text carries no resident's name or words, only that someone waits.
        """
        self.events.publish("queue")
        self.events.publish(f"handoff:{handoff.id}")
        urgency = "URGENT: " if handoff.urgent else ""
        body = (
            f"Helping Hands: {urgency}a resident is waiting for a volunteer "
            f"({handoff.reason_text.lower()}). Open the console: "
            f"{self.console_url}/handoffs/{handoff.id}"
        )
        alerted = 0
        for volunteer in on_duty(self.db):
            if volunteer.phone:
                queue_sms(self.db, volunteer.phone, body, volunteer_id=None)
                alerted += 1
        logger.info(
            "handoff %s opened (%s%s); %s volunteer(s) texted",
            handoff.id,
            handoff.reason,
            ", urgent" if handoff.urgent else "",
            alerted,
        )
        if alerted:
            await send_due(self.db, self.twilio)

    def conversation_changed(self, handoff_id: int) -> None:
        """A message arrived or was sent in a handed-off conversation."""
        self.events.publish(f"handoff:{handoff_id}")
        self.events.publish("queue")

    def queue_changed(self) -> None:
        self.events.publish("queue")
