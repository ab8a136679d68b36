"""The conversation router: one resident, one conversation, whatever the channel.

Registration of a new number happens here, before Rasa is involved, because a
name and an address are free text that no intent model should classify.
"""

from __future__ import annotations

import logging
import re

import sqlite_utils

from assistant import messages
from assistant.errors import AssistantUnavailable
from assistant.rasa_client import RasaClient
from assistant.residents import (
    Resident,
    clean_address,
    clean_name,
    get_resident,
    masked,
    update_resident,
)
from assistant.store import utc_now

logger = logging.getLogger(__name__)

WELCOME = (
    "Hello, and welcome to Helping Hands. I can help you order your groceries, "
    "and a real person is always here if you need one. First, what is your name?"
)
ASK_NAME_AGAIN = (
    "Sorry, I didn't quite catch your name. Please send just your name, "
    "for example Joan Smith."
)
ASK_ADDRESS = "Thank you, {name}. What address should we deliver your shopping to?"
ASK_ADDRESS_AGAIN = (
    "Sorry, I need a little more to find you. Please send your house number, "
    "street and postcode."
)
REGISTERED = (
    "Thank you. We'll deliver to {address}. Now, what would you like? "
    'You could say "two pints of milk and a loaf".'
)
PERSON_DURING_SIGN_UP = (
    "Of course. I've asked a volunteer to get in touch with you, usually within "
    "a few hours in the daytime. If you'd like to carry on meanwhile, {ask}"
)
ASKS_FOR_PERSON = re.compile(
    r"\b(real person|a person|human|someone|somebody|volunteer|speak to|talk to)\b",
    re.IGNORECASE,
)
MOST_WORDS_IN_A_NAME = 5
UNAVAILABLE = (
    "I'm sorry, I'm having a little trouble at the moment. Your message is "
    "safely saved, and a volunteer will get back to you soon."
)


class ConversationRouter:
    """Takes a resident's message, returns the assistant's replies, stores both."""

    def __init__(self, db: sqlite_utils.Database, rasa: RasaClient) -> None:
        self.db = db
        self.rasa = rasa

    async def handle(
        self, resident: Resident, text: str, channel: str, inbound_id: int
    ) -> list[str]:
        """Answer one inbound message, already stored as `inbound_id`."""
        if not resident.is_registered:
            replies = await self.register(resident, text, channel, inbound_id)
        else:
            replies = await self.ask_assistant(resident, text, channel)
        for reply in replies:
            messages.record_outbound(self.db, resident.id, channel, reply, inbound_id)
        messages.set_status(self.db, inbound_id, "answered")
        return replies

    async def register(
        self, resident: Resident, text: str, channel: str, inbound_id: int
    ) -> list[str]:
        """Ask a new resident for a name, then an address, then carry on."""
        step = resident.registration_step
        if ASKS_FOR_PERSON.search(text):
            self.queue_for_person(resident, "asked-for-person")
            ask = (
                "please send your name."
                if step == "name"
                else ("please send the address for your deliveries.")
            )
            if step == "name" and resident.held_message is None:
                update_resident(self.db, resident.id, held_message="")
            return [PERSON_DURING_SIGN_UP.format(ask=ask)]
        if step == "name" and resident.held_message is None:
            update_resident(
                self.db, resident.id, held_message=text, registration_step="name"
            )
            return [WELCOME]
        if step == "name":
            name = clean_name(text)
            if name is None or len(name.split()) > MOST_WORDS_IN_A_NAME:
                return [ASK_NAME_AGAIN]
            update_resident(
                self.db, resident.id, name=name, registration_step="address"
            )
            return [ASK_ADDRESS.format(name=name)]
        address = clean_address(text)
        if address is None:
            return [ASK_ADDRESS_AGAIN]
        update_resident(
            self.db,
            resident.id,
            address=address,
            registration_step=None,
            held_message=None,
        )
        logger.info("resident %s registered", masked(resident.phone))
        replies = [REGISTERED.format(address=address)]
        first_message = resident.held_message or ""
        if len(first_message.split()) > 2:
            # The first message was probably a request: answer it now, so
            # nothing the resident asked for before signing up is lost.
            registered = get_resident(self.db, resident.id)
            replies = [
                "Thank you. We'll deliver to " + address + ".",
                *await self.ask_assistant(registered, first_message, channel),
            ]
        return replies

    async def ask_assistant(
        self, resident: Resident, text: str, channel: str
    ) -> list[str]:
        try:
            answers = await self.rasa.turn(
                resident.id, text, {"channel": channel, "sent_at": utc_now()}
            )
        except AssistantUnavailable:
            logger.warning("assistant unavailable for %s", masked(resident.phone))
            self.queue_for_person(resident, "assistant-unavailable")
            return [UNAVAILABLE]
        replies = [a["text"] for a in answers if a.get("text")]
        return replies

    def queue_for_person(self, resident: Resident, reason: str) -> None:
        """Make sure a person sees this conversation; one waiting entry is enough."""
        waiting = self.db.execute(
            "SELECT 1 FROM handoffs WHERE resident_id = ? AND status = 'waiting'",
            [resident.id],
        ).fetchone()
        if not waiting:
            self.db["handoffs"].insert(
                {
                    "resident_id": resident.id,
                    "reason": reason,
                    "urgent": 0,
                    "status": "waiting",
                    "created_at": utc_now(),
                }
            )
