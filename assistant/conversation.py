"""The conversation router: one resident, one conversation, whatever the channel.

Registration of a new number happens here, before Rasa is involved, because a
name and an address are free text that no intent model should classify.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timezone

import sqlite_utils
from twilio.twiml.voice_response import VoiceResponse

from assistant import messages
from assistant.channels.twilio_rest import TwilioError
from assistant.config import Settings
from assistant.errors import AssistantUnavailable, HelpingHandsError
from assistant.handoffs import (
    Handoff,
    active_handoff,
    end_handoff,
    get_handoff,
    open_handoff,
    should_reassure,
    when_to_expect,
)
from assistant.notify import Notifier
from assistant.outbound import queue_sms, send_due
from assistant.rasa_client import RasaClient
from assistant.residents import (
    Resident,
    clean_address,
    clean_name,
    get_resident,
    masked,
    update_resident,
)
from assistant.safety import SAFETY_MESSAGE, sounds_like_distress
from assistant.store import transaction
from assistant.volunteers import Volunteer, on_duty

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


HELD_REASSURANCE = "Thank you, I've passed your message on. {when}"
# Handoffs that ask a person to look, without taking the conversation from the
# assistant until a volunteer claims it: a sign-up question, or a message the
# assistant was too slow to answer (it answers again once it is back).
NOT_HOLDING = {"assistant-unavailable", "sign-up"}


class ConversationRouter:
    """Takes a resident's message, returns the assistant's replies, stores both.

    Words of distress are answered first, before anything else. A message
    from a resident whose conversation is with a volunteer goes to the console,
    not to the assistant. Otherwise a new number is signed up, and a known
    resident talks to the assistant.
    """

    def __init__(
        self,
        db: sqlite_utils.Database,
        rasa: RasaClient,
        settings: Settings,
        notifier: Notifier | None = None,
    ) -> None:
        self.db = db
        self.rasa = rasa
        self.settings = settings
        self.notifier = notifier

    async def handle(
        self, resident: Resident, text: str, channel: str, inbound_id: int
    ) -> list[str]:
        """Answer one inbound message, already stored as `inbound_id`."""
        status = "answered"
        handoff = active_handoff(self.db, resident.id)
        if sounds_like_distress(text):
            replies = await self.emergency(resident, channel)
        elif handoff is not None and holds(handoff):
            replies = self.while_held(handoff)
            status = "held"
        elif not resident.is_registered:
            replies = await self.register(resident, text, channel, inbound_id)
        else:
            replies = await self.ask_assistant(resident, text, channel)
        if handoff is not None and self.notifier is not None:
            self.notifier.conversation_changed(handoff.id)
        with transaction(self.db):
            for reply in replies:
                messages.record_outbound(
                    self.db, resident.id, channel, reply, inbound_id
                )
            messages.set_status(self.db, inbound_id, status)
        return replies

    async def emergency(self, resident: Resident, channel: str) -> list[str]:
        """Safety first: the 999 message, and an urgent handoff to a person."""
        logger.warning("words of distress from %s", masked(resident.phone))
        handoff, _ = open_handoff(
            self.db, resident.id, "emergency", urgent=True, channel=channel
        )
        try:
            await self.rasa.add_event(resident.id, "pause")
        except AssistantUnavailable:
            pass  # the router holds the conversation whatever Rasa knows
        if self.notifier is not None:
            await self.notifier.handoff_opened(handoff)
        return [SAFETY_MESSAGE]

    def while_held(self, handoff: Handoff) -> list[str]:
        """Silence while a volunteer talks; now and then, word that one will."""
        if not should_reassure(self.db, handoff):
            return []
        return [HELD_REASSURANCE.format(when=self.when_to_expect())]

    def when_to_expect(self) -> str:
        return when_to_expect(
            len(on_duty(self.db)),
            datetime.now(timezone.utc),
            self.settings.volunteer_hours_range,
            self.settings.timezone,
        )

    async def open_handoff(
        self, resident: Resident, reason: str, channel: str, urgent: bool = False
    ) -> Handoff:
        handoff, is_new = open_handoff(
            self.db, resident.id, reason, urgent=urgent, channel=channel
        )
        if is_new and self.notifier is not None:
            await self.notifier.handoff_opened(handoff)
        return handoff

    async def register(
        self, resident: Resident, text: str, channel: str, inbound_id: int
    ) -> list[str]:
        """Ask a new resident for a name, then an address, then carry on."""
        step = resident.registration_step
        if ASKS_FOR_PERSON.search(text):
            await self.open_handoff(resident, "sign-up", channel)
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
            # Only the metadata the actions read: Rasa copies it into the
            # tracker, which every turn reloads and sends to the action server.
            answers = await self.rasa.turn(resident.id, text, {"channel": channel})
        except AssistantUnavailable:
            logger.warning("assistant unavailable for %s", masked(resident.phone))
            await self.open_handoff(resident, "assistant-unavailable", channel)
            return [UNAVAILABLE]
        for answer in answers:
            custom = answer.get("custom")
            if isinstance(custom, dict) and "handoff" in custom:
                await self.announce(custom["handoff"])
        replies = [a["text"] for a in answers if a.get("text")]
        if not replies:
            # Every action answers in words, so silence means one failed (the
            # action server is down, say): the resident must not be left
            # without a word.
            logger.warning("the assistant gave no reply to %s", masked(resident.phone))
            await self.open_handoff(resident, "assistant-unavailable", channel)
            return [UNAVAILABLE]
        return replies

    async def announce(self, handoff_id: object) -> None:
        """Tell volunteers about a handoff the assistant's actions opened."""
        try:
            handoff = get_handoff(self.db, int(handoff_id))
        except (TypeError, ValueError):
            return
        if handoff is not None and self.notifier is not None:
            await self.notifier.handoff_opened(handoff)

    async def send_from_volunteer(
        self,
        resident: Resident,
        text: str,
        volunteer_id: int,
        handoff_id: int | None = None,
    ) -> int:
        """A volunteer's reply, sent through the resident's own channel.

        Returns:
            The stored message's id.
        """
        channel = messages.last_channel(self.db, resident.id) or "sms"
        # A phone caller is no longer on the line once handed over, so a typed
        # reply goes by text message; a landline cannot take one, which the
        # outbox then shows, and the volunteer rings back instead.
        if channel in ("sms", "phone") and resident.phone:
            message_id = queue_sms(
                self.db,
                resident.phone,
                text,
                resident_id=resident.id,
                volunteer_id=volunteer_id,
            )
            await send_due(self.db, self.notifier.twilio if self.notifier else None)
        else:
            # The tablet and the terminal chat fetch these and show them live.
            message_id = messages.record_outbound(
                self.db,
                resident.id,
                channel,
                text,
                status="sent",
                volunteer_id=volunteer_id,
            )
        if handoff_id is not None and self.notifier is not None:
            self.notifier.conversation_changed(handoff_id)
        return message_id

    async def ring_back(self, resident: Resident, volunteer: Volunteer) -> str:
        """Ring the volunteer, then put them through to the resident.

        Both see the service's own number, never each other's.

        Returns:
            Twilio's CallSid.

        Raises:
            RingBackError: no Twilio account, no phone number for one of them,
                or Twilio would not start the call.
        """
        twilio = self.notifier.twilio if self.notifier else None
        if twilio is None:
            raise RingBackError("Twilio is not set up", "ring-back-no-twilio")
        if not (resident.phone and volunteer.phone):
            raise RingBackError("a phone number is missing", "ring-back-no-number")
        response = VoiceResponse()
        whom = resident.name or "the resident"
        response.say(
            f"Helping Hands here. Putting you through to {whom} now.",
            voice=self.settings.twilio_voice,
            language="en-GB",
        )
        dial = response.dial(caller_id=self.settings.twilio_number, timeout=30)
        dial.number(resident.phone)
        try:
            call_sid = await twilio.start_call(volunteer.phone, str(response))
        except TwilioError as error:
            raise RingBackError("Twilio would not start the call") from error
        messages.record_outbound(
            self.db,
            resident.id,
            "phone",
            f"{volunteer.display_name} rang back.",
            status="sent",
            volunteer_id=volunteer.id,
        )
        logger.info("volunteer %s rang back %s", volunteer.id, masked(resident.phone))
        return call_sid

    async def hand_back(self, handoff: Handoff, close: bool = False) -> None:
        """Give the conversation back to the assistant, where it paused.

        Closing also clears any question the assistant was waiting on, since
        the volunteer has dealt with it.

        Raises:
            AssistantUnavailable: Rasa could not be told; the handoff stays.
        """
        events: list[dict] = [{"event": "resume"}]
        if close:
            events.append({"event": "slot", "name": "pending", "value": None})
        # The assistant paused in the middle of its turn: it goes back to
        # listening, so the resident's next message starts a turn as usual.
        events.append({"event": "action", "name": "action_listen"})
        await self.rasa.add_events(handoff.resident_id, events)
        end_handoff(self.db, handoff.id, "closed" if close else "handed-back")
        if self.notifier is not None:
            self.notifier.conversation_changed(handoff.id)


class RingBackError(HelpingHandsError):
    """A call back could not be started."""

    code = "ring-back-failed"


def holds(handoff: Handoff) -> bool:
    """Whether a handoff keeps the assistant out of the conversation."""
    return handoff.status == "claimed" or handoff.reason not in NOT_HOLDING
