"""A phone call's conversation, whichever way speech is recognised.

The phone channels (Twilio's own speech with `<Gather>`, or our engines over a
media stream) hear words or key presses; this decides what to say next and
whether to keep listening, put the caller through to a volunteer, or end the
call kindly. Key 0 asks for a person and star repeats the last thing said.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from assistant import messages
from assistant.basket import basket_lines
from assistant.calls import (
    SILENCES_BEFORE_GOODBYE,
    Call,
    get_call,
    record_turn,
    start_call,
)
from assistant.conversation import ConversationRouter, holds
from assistant.handoffs import Handoff, active_handoff
from assistant.residents import Resident, get_resident, masked, update_resident
from assistant.volunteers import on_duty
from assistant.wording import basket_summary

logger = logging.getLogger(__name__)

CHANNEL = "phone"
KEYS_HINT = "You can press 0 at any time to talk to a person, or star to hear me again."
REPROMPT = (
    "Are you still there? Take your time. Tell me what you'd like, or press 0 "
    "to talk to a person."
)
SILENT_GOODBYE = (
    "I haven't heard anything for a little while, so I'll say goodbye for now. "
    "I've asked a volunteer to give you a ring back. Goodbye."
)
PUTTING_THROUGH = "I'm putting you through to a volunteer now. Please hold on."
CALL_BACK = "A volunteer will ring you back. {when} Goodbye for now."
NOBODY_ANSWERED = (
    "I'm sorry, the volunteer couldn't answer just now. One will ring you back "
    "as soon as they can. Your basket is kept safe. Goodbye."
)
UNKNOWN_KEY = (
    "Sorry, that key does nothing. Press 0 for a person, or star to hear me again."
)
WELCOME_NEW = (
    "Hello, this is Helping Hands. I can help you order your groceries, and a "
    "real person is always here if you need one. I don't know this number yet. "
    "To sign up, please tell me your name. Or press 0 to talk to a volunteer."
)


@dataclass(frozen=True)
class PhoneTurn:
    """What to say, and what happens after saying it."""

    lines: list[str]
    next: str  # "listen", "connect" or "hangup"
    connect_to: str | None = None
    volunteer_id: int | None = None


class PhoneConversation:
    """Turns what a caller says or presses into what the call does next."""

    def __init__(self, router: ConversationRouter) -> None:
        self.router = router
        self.db = router.db

    def opening(self, call_sid: str, resident: Resident, mode: str) -> PhoneTurn:
        """The greeting: by name for a known caller, a way in for a new one."""
        call = start_call(self.db, call_sid, resident.id, resident.phone or "", mode)
        logger.info("call started from %s", masked(resident.phone))
        if not resident.is_registered:
            if resident.held_message is None:
                # The caller's first words will be their name.
                update_resident(self.db, resident.id, held_message="")
            return self._said(call, [WELCOME_NEW])
        lines = [f"Hello {first_name(resident)}, this is Helping Hands."]
        basket = basket_lines(self.db, resident.id)
        if basket:
            # A dropped call loses nothing: say what is still in the basket.
            summary = basket_summary(basket)
            lines.append(f"From before, {summary[0].lower()}{summary[1:]}")
        lines.append(
            "What can I get you?" if not basket else "What else can I get you?"
        )
        if call.is_first_call:
            lines.append(KEYS_HINT)
        return self._said(call, lines)

    def _said(
        self,
        call: Call,
        lines: list[str],
        next_step: str = "listen",
        connect_to: str | None = None,
        volunteer_id: int | None = None,
    ) -> PhoneTurn:
        record_turn(self.db, call.call_sid, "\n".join(lines))
        return PhoneTurn(lines, next_step, connect_to, volunteer_id)

    async def take(
        self,
        call_sid: str,
        heard: str | None = None,
        key: str | None = None,
        sequence: int | None = None,
    ) -> PhoneTurn:
        """The next turn, after the caller said `heard` or pressed `key`.

        Args:
            call_sid: the call.
            heard: the words recognised, if any.
            key: a key pressed, if any.
            sequence: the turn's number, so that a webhook Twilio repeats is
                answered again rather than acted on twice.
        """
        call = get_call(self.db, call_sid)
        if call is None or call.resident_id is None:
            return PhoneTurn(
                ["Sorry, something went wrong. Please ring again."], "hangup"
            )
        resident = get_resident(self.db, call.resident_id)
        if key == "0":
            return await self.person(call, resident, "asked-for-person")
        if key == "*":
            repeat = (call.last_reply or "").split("\n")
            return PhoneTurn([line for line in repeat if line] or [REPROMPT], "listen")
        if key:
            return PhoneTurn([UNKNOWN_KEY], "listen")
        if not heard or not heard.strip():
            return await self.silence(call, resident)
        return await self.words(call, resident, heard.strip(), sequence)

    async def silence(self, call: Call, resident: Resident) -> PhoneTurn:
        """A gentle reprompt; after three silences, a kind goodbye and a call back."""
        silences = record_turn(self.db, call.call_sid, "", silent=True)
        if silences < SILENCES_BEFORE_GOODBYE:
            return PhoneTurn([REPROMPT], "listen")
        await self.router.open_handoff(resident, "silent-call", CHANNEL)
        return PhoneTurn([SILENT_GOODBYE], "hangup")

    async def words(
        self, call: Call, resident: Resident, heard: str, sequence: int | None
    ) -> PhoneTurn:
        provider_id = f"{call.call_sid}:{sequence}" if sequence is not None else None
        inbound_id, is_new = messages.record_inbound(
            self.db, CHANNEL, provider_id, resident.id, heard
        )
        if not is_new:
            replies = messages.replies_to(self.db, inbound_id)
        else:
            replies = await self.router.handle(resident, heard, CHANNEL, inbound_id)
        handoff = active_handoff(self.db, resident.id)
        if handoff is not None and holds(handoff) and handoff.status == "waiting":
            return await self.connect(call, resident, handoff, replies)
        lines = [line for reply in replies for line in reply.split("\n") if line]
        return self._said(call, lines or [REPROMPT])

    async def person(self, call: Call, resident: Resident, reason: str) -> PhoneTurn:
        handoff = await self.router.open_handoff(resident, reason, CHANNEL)
        return await self.connect(call, resident, handoff, [])

    async def connect(
        self, call: Call, resident: Resident, handoff: Handoff, said: list[str]
    ) -> PhoneTurn:
        """Put the caller through to a volunteer on duty, or arrange a call back."""
        lines = [line for reply in said for line in reply.split("\n") if line]
        volunteers = [v for v in on_duty(self.db) if v.phone]
        if volunteers:
            volunteer = volunteers[0]
            return self._said(
                call,
                [*lines, PUTTING_THROUGH],
                "connect",
                volunteer.phone,
                volunteer.id,
            )
        when = self.router.when_to_expect()
        return self._said(call, [*lines, CALL_BACK.format(when=when)], "hangup")


def first_name(resident: Resident) -> str:
    words = (resident.name or "").split()
    titles = {"mr", "mrs", "miss", "ms", "dr", "mx"}
    if len(words) > 1 and words[0].lower().strip(".") in titles:
        return " ".join(words[:2])
    return words[0] if words else "there"
