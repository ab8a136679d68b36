"""Arranging one resident's calls: offering free times, reading them back,
booking, moving and cancelling, and saying it all in plain words.

A CallDesk is made for one resident at one moment; its methods return a
Reply (what to say, and the questions to leave open) for the actions in
actions/calls.py to send.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import date, datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

from actions.call_words import (
    ALL_OF_THEM,
    FORTNIGHTLY,
    NONE_OF_THEM,
    REGULAR,
    REGULAR_CALLS,
    before_words,
    calls_meant,
    join_and,
    join_or,
    on_day,
    options_meant,
    say_times,
    split_move,
)
from actions.common import shop
from assistant.availability import from_stored, stored
from assistant.bookings import (
    Booking,
    BookingError,
    book_call,
    cancel_call,
    get_booking,
    move_call,
    upcoming_calls,
)
from assistant.call_proposals import NOTICE_TO_PROPOSE, propose_times
from assistant.call_reminders import reminder_plan
from assistant.call_series import book_series, cancel_series, get_series
from assistant.outbound import queue_sms
from assistant.residents import get_resident
from assistant.volunteers import get_volunteer
from assistant.when import (
    WhenRequest,
    anytime,
    describe,
    describe_clock,
    describe_day,
    describe_request,
    understand_when,
)
from assistant.when_words import WEEKDAY_NAMES

logger = logging.getLogger(__name__)

# What a question carries about the call being arranged.
CONTEXT_KEYS = ("move", "every_weeks", "prefer", "rebook_of")
SAY_YES_OR_NO = "Please say yes or no."
EXAMPLES = 'For example "tomorrow afternoon", or "whenever someone is free".'
MOST_CALLS_LISTED = 5


@dataclass
class Reply:
    """What to say, and the call questions to leave open (the first is asked)."""

    text: str
    questions: list[dict[str, Any]]


def context_of(question: dict[str, Any]) -> dict[str, Any]:
    """What a question says is being arranged."""
    return {key: question.get(key) for key in CONTEXT_KEYS}


class CallDesk:
    """Arranges one resident's calls at one moment, in words for them."""

    def __init__(self, resident_id: str, now: datetime | None = None) -> None:
        the_shop = shop()
        self.db = the_shop.db
        self.tz = ZoneInfo(the_shop.settings.timezone)
        self.plan = reminder_plan(the_shop.settings)
        self.now = now or datetime.now(timezone.utc)
        self.resident_id = resident_id

    # --- words ------------------------------------------------------------

    def say(self, moment: datetime) -> str:
        return describe(moment, self.now, self.tz)

    @property
    def today(self) -> date:
        return self.now.astimezone(self.tz).date()

    def say_times(self, starts: list[datetime], every_weeks: int | None) -> str:
        return say_times(starts, every_weeks, self.now, self.tz)

    def volunteer_first_name(self, volunteer_id: int) -> str:
        volunteer = get_volunteer(self.db, volunteer_id)
        if volunteer is None:
            return "A volunteer"
        return volunteer.display_name.split()[0]

    def resident_first_name(self) -> str:
        resident = get_resident(self.db, self.resident_id)
        if resident is None or not resident.name:
            return "the resident"
        return resident.name.split()[0]

    def reminder_words(self, start: datetime) -> str:
        """ " We'll text you a reminder the day before and an hour before.",
        naming only the reminders still to come for a call at `start`, or
        nothing for a resident we cannot text."""
        resident = get_resident(self.db, self.resident_id)
        if resident is None or not resident.phone or resident.sms_opted_out:
            return ""
        offsets = [o for o in self.plan.resident if start - o > self.now]
        if not offsets:
            return ""
        words = [before_words(offset) for offset in offsets]
        return f" We'll text you a reminder {join_and(words)}."

    # --- reading what was said ----------------------------------------------

    def request(self, text: str, context: dict[str, Any]) -> WhenRequest:
        """What the words say about when, with a regular call's rhythm kept."""
        request = understand_when(text, self.now, self.tz)
        every = context.get("every_weeks")
        if every and request.windows and not request.every_weeks:
            request = replace(request, every_weeks=every)
        return request

    def options_meant(self, options: list[datetime], text: str) -> list[int]:
        return options_meant(options, text, self.now, self.tz)

    def calls_meant(self, calls: list[Booking], text: str) -> list[Booking]:
        return calls_meant(calls, text, self.now, self.tz)

    def upcoming(self) -> list[Booking]:
        """The resident's calls still to begin, soonest first."""
        return [
            call
            for call in upcoming_calls(self.db, self.resident_id, self.now)
            if call.start > self.now
        ]

    # --- offering times -----------------------------------------------------

    def ask_when(self, context: dict[str, Any], lead: str) -> Reply:
        question = {
            "kind": "call_when",
            **context,
            "text": "When would suit you for the call?",
        }
        return Reply(lead, [question])

    def offer(
        self,
        request: WhenRequest,
        context: dict[str, Any],
        sorry: str | None = None,
    ) -> Reply:
        """Free times for a request: the one asked for to confirm, several to
        choose from, or the nearest ones when nothing asked for is free."""
        every = request.every_weeks or context.get("every_weeks")
        context = {**context, "every_weeks": every}
        if request.passed and not request.windows:
            return self.ask_when(
                context, "That time has already gone. When else would suit you?"
            )
        if request.preferred is not None and sorry is None:
            clash = [
                call
                for call in self.upcoming()
                if call.start <= request.preferred < call.end
                and call.id != context.get("move")
            ]
            if clash:
                name = self.volunteer_first_name(clash[0].volunteer_id)
                return self.ask_when(
                    context,
                    f"You already have a call booked {self.say(clash[0].start)}, "
                    f"with {name}. If you'd like another, just tell me when.",
                )
        proposals = propose_times(
            self.db, request, self.now, resident_id=self.resident_id, tz=self.tz
        )
        if not proposals:
            sorry = sorry or "I'm sorry."
            return self.ask_when(
                context,
                f"{sorry} There's nobody free to ring you around "
                "then, nor for a few days either side. If another time would "
                "suit, just tell me when, or ask for a person.",
            )
        starts = [proposal.start for proposal in proposals]
        matching = [proposal for proposal in proposals if proposal.matches_request]
        if matching and len(proposals) == 1:
            return self.confirm(starts[0], context)
        times = self.say_times(starts, every)
        if matching:
            said = describe_request(request, self.now, self.tz)
            lead = f"{said[:1].upper()}{said[1:]}: " if said else ""
            verb = "instead " if context.get("move") else ""
            offered = times
            if said and self.one_day_asked(request, starts):
                # "Thursday afternoon: I could ring you at 12 noon or 1pm."
                offered = "at " + join_or(
                    [describe_clock(s.astimezone(self.tz).time()) for s in starts]
                )
            text = f"{lead}I could ring you {verb}{offered}. Which would suit you?"
        else:
            if sorry is None:
                sorry = self.sorry_for(request)
            nearest = (
                "The nearest time I have is"
                if len(starts) == 1
                else ("The nearest times I have are")
            )
            if len(starts) == 1:
                return self.confirm(starts[0], context, f"{sorry} {nearest} {times}.")
            text = f"{sorry} {nearest} {times}. Which would suit you?"
        question = {
            "kind": "choose_call_time",
            "starts": [stored(start) for start in starts],
            **context,
            "text": f"Which would suit you: {times}?",
        }
        return Reply(text, [question])

    def one_day_asked(self, request: WhenRequest, starts: list[datetime]) -> bool:
        """Whether the times offered all fall on the one day asked for (or the
        first day of a regular call), so the day need not be said twice."""
        days = {start.astimezone(self.tz).date() for start in starts}
        asked = {window.start.astimezone(self.tz).date() for window in request.windows}
        if request.every_weeks:
            return len(days) == 1 and min(asked) in days
        return len(days) == 1 and days == asked

    def sorry_for(self, request: WhenRequest) -> str:
        if request.preferred is not None:
            if request.preferred < self.now + NOTICE_TO_PROPOSE:
                return "That's a little too soon for us to arrange, I'm sorry."
            return f"I'm sorry, nobody is free {self.say(request.preferred)}."
        said = describe_request(request, self.now, self.tz)
        return f"I'm sorry, nobody is free {said}." if said else "I'm sorry."

    def confirm(
        self, start: datetime, context: dict[str, Any], lead: str = ""
    ) -> Reply:
        """Read one time back and ask for a yes before booking it."""
        every = context.get("every_weeks")
        if every:
            asked = f"Shall I book a regular call {self.say_times([start], every)}?"
        elif context.get("move"):
            asked = f"Shall I move your call to {self.say(start)}?"
        else:
            asked = f"Shall I book a call for {self.say(start)}?"
        question = {
            "kind": "confirm_call",
            "start": stored(start),
            **context,
            "text": f"{asked} {SAY_YES_OR_NO}",
        }
        text = f"{lead} {question['text']}" if lead else question["text"]
        return Reply(text, [question])

    # --- booking --------------------------------------------------------------

    def book(self, start: datetime, context: dict[str, Any]) -> Reply:
        """Book (or move) the call at the time chosen, and say so."""
        try:
            if context.get("move"):
                return self.moved(start, context["move"])
            if context.get("every_weeks"):
                return self.booked_series(start, context["every_weeks"])
            booking = book_call(
                self.db,
                self.resident_id,
                start,
                self.now,
                prefer_volunteer_id=context.get("prefer"),
                plan=self.plan,
                tz=self.tz,
            )
        except BookingError as error:
            return self.refused(error, start, context)
        name = self.volunteer_first_name(booking.volunteer_id)
        return Reply(
            f"Lovely, that's booked. {name} will ring you {self.say(booking.start)}, "
            f"from the Helping Hands number.{self.reminder_words(booking.start)}",
            [],
        )

    def booked_series(self, start: datetime, every_weeks: int) -> Reply:
        result = book_series(
            self.db,
            self.resident_id,
            start,
            self.now,
            every_weeks=every_weeks,
            plan=self.plan,
            tz=self.tz,
        )
        first = result.booked[0]
        name = self.volunteer_first_name(first.volunteer_id)
        text = (
            f"Lovely, that's booked. {name} will ring you "
            f"{self.say_times([first.start], every_weeks)}."
        )
        if result.missed:
            days = [
                describe_day(moment.astimezone(self.tz).date(), self.today)
                for moment in result.missed
            ]
            if len(days) > 2:
                days = [*days[:2], f"{len(days) - 2} other weeks"]
            text += f" Nobody is free on {join_and(days)}, so there's no call then."
        return Reply(text + self.reminder_words(first.start), [])

    def moved(self, start: datetime, booking_id: int) -> Reply:
        before = get_booking(self.db, booking_id)
        booking = move_call(
            self.db, booking_id, start, self.now, plan=self.plan, tz=self.tz
        )
        name = self.volunteer_first_name(booking.volunteer_id)
        text = f"All right, I've moved your call to {self.say(booking.start)}. "
        text += f"{name} will ring you then."
        if booking.series_id is not None:
            text += " Your other regular calls stay as they are."
        if before is not None:
            resident = self.resident_first_name()
            if before.volunteer_id == booking.volunteer_id:
                note = (
                    f"the call with {resident} has moved from "
                    f"{self.say(before.start)} to {self.say(booking.start)}."
                )
            else:
                note = (
                    f"the call with {resident} {self.say(before.start)} has "
                    "moved to a time another volunteer will take. Nothing to do."
                )
            self.tell_volunteer(before.volunteer_id, note)
        return Reply(text + self.reminder_words(booking.start), [])

    def refused(
        self, error: BookingError, start: datetime, context: dict[str, Any]
    ) -> Reply:
        """A time that could not be booked after all: say why, offer others."""
        logger.info("a call could not be booked (%s)", error.code)
        if error.code in ("booking-not-found", "booking-closed", "booking-started"):
            return Reply(
                "I'm sorry, I couldn't find that call any more, so nothing has "
                "been changed.",
                [],
            )
        sorry = {
            "booking-resident-busy": "You already have a call then.",
            "booking-too-soon": "I'm sorry, that's too soon to arrange now.",
        }.get(error.code, "I'm sorry, that time has just been taken.")
        request = anytime(self.now, self.tz, preferred=start)
        return self.offer(request, context, sorry=sorry)

    def tell_volunteer(self, volunteer_id: int, note: str) -> None:
        """Text a volunteer about a change to one of their calls."""
        volunteer = get_volunteer(self.db, volunteer_id)
        if volunteer is not None and volunteer.phone:
            queue_sms(self.db, volunteer.phone, f"Helping Hands: {note}")

    # --- cancelling -------------------------------------------------------------

    def confirm_cancel(self, calls: list[Booking], whole_series: bool) -> Reply:
        """Ask before cancelling calls; with `whole_series`, a regular call
        among them is stopped altogether, not just its next call."""
        one_offs = [c for c in calls if not (whole_series and c.series_id)]
        series_ids = sorted(
            {c.series_id for c in calls if whole_series and c.series_id}
        )
        if series_ids and not one_offs and len(series_ids) == 1:
            series = get_series(self.db, series_ids[0])
            every = "every" if series.every_weeks == 1 else "every other"
            usual = [c for c in calls if c.moved_from is None] or calls
            text = (
                f"Shall I stop your regular calls {every} "
                f"{WEEKDAY_NAMES[series.weekday]} at "
                f"{describe_clock(series.local_time)}? The next one is "
                f"{self.say(usual[0].start)}."
            )
        elif len(one_offs) == 1 and not series_ids:
            name = self.volunteer_first_name(one_offs[0].volunteer_id)
            text = (
                f"Shall I cancel your call {self.say(one_offs[0].start)} with {name}?"
            )
        elif series_ids:
            text = "Shall I cancel all your calls, the regular ones too?"
        else:
            text = f"Shall I cancel all {len(one_offs)} of your calls?"
        question = {
            "kind": "confirm_cancel_call",
            "bookings": [call.id for call in one_offs],
            "series": series_ids,
            "text": f"{text} {SAY_YES_OR_NO}",
        }
        return Reply(question["text"], [question])

    def cancelled(self, question: dict[str, Any]) -> Reply:
        """Cancel what the resident said yes to, and tell the volunteers."""
        resident = self.resident_first_name()
        for series_id in question.get("series") or []:
            series = get_series(self.db, series_id)
            count = cancel_series(self.db, series_id, self.now)
            if series is not None and series.volunteer_id is not None:
                self.tell_volunteer(
                    series.volunteer_id,
                    f"{resident}'s regular calls have stopped ({count} cancelled). "
                    "Nothing to do.",
                )
        done = []
        for booking_id in question.get("bookings") or []:
            try:
                call = cancel_call(self.db, booking_id, self.now)
            except BookingError as error:
                logger.info("call %s was not cancelled (%s)", booking_id, error.code)
                continue
            done.append(call)
            self.tell_volunteer(
                call.volunteer_id,
                f"the call with {resident} {self.say(call.start)} is cancelled. "
                "Nothing to do.",
            )
        if question.get("series") and not question.get("bookings"):
            return Reply(
                "All right, I've stopped your regular calls. Nobody will ring "
                "you for them now.",
                [],
            )
        if question.get("bookings") and not done:
            return Reply(
                "I'm sorry, I couldn't cancel that call: it may have started "
                "already. Nothing has been changed.",
                [],
            )
        if len(done) == 1 and not question.get("series"):
            text = f"All right, I've cancelled your call {self.say(done[0].start)}."
            if done[0].series_id is not None:
                text += " Your other regular calls stay as they are."
            return Reply(text, [])
        return Reply("All right, I've cancelled all those calls.", [])

    def which_call(
        self, calls: list[Booking], purpose: str, new_time: str, lead: str = ""
    ) -> Reply:
        listed = join_or([f"the one {self.say(call.start)}" for call in calls[:5]])
        verb = "move" if purpose == "move" else "cancel"
        asked = f"Which call would you like to {verb}: {listed}?"
        question = {
            "kind": "choose_call",
            "purpose": purpose,
            "calls": [call.id for call in calls[:5]],
            "new_time": new_time,
            "text": asked,
        }
        return Reply(f"{lead} {asked}".strip(), [question])

    # --- answering an open question -------------------------------------------

    def answer(
        self, question: dict[str, Any], text: str, said: str | None, real_yes: bool
    ) -> Reply | None:
        """The reply to an answer, or None if the words do not answer it.

        A yes or a no always gets a reply: at worst the question again.
        """
        if said is None and NONE_OF_THEM.search(text.lower()):
            said = "no"
        kind = question["kind"]
        if kind == "call_when":
            reply = self.answer_when(question, text, said)
        elif kind == "confirm_call":
            reply = self.answer_confirm(question, text, said, real_yes)
        elif kind == "choose_call_time":
            reply = self.answer_choice(question, text, said, real_yes)
        elif kind == "choose_call":
            reply = self.answer_which_call(question, text, said)
        else:
            reply = self.answer_cancel(question, said, real_yes)
        if reply is None and said is not None:
            reply = Reply(f"Sorry, I didn't follow. {question['text']}", [question])
        return reply

    def on_day(self, text: str, day: date) -> str:
        return on_day(text, day, self.now, self.tz)

    def not_booked(self, question: dict[str, Any]) -> Reply:
        context = context_of(question)
        if context.get("move"):
            lead = "All right, I haven't moved your call."
        else:
            lead = "All right, I haven't booked anything."
        return self.ask_when(
            context, f"{lead} If another time would suit, just tell me when."
        )

    def answer_when(
        self, question: dict[str, Any], text: str, said: str | None
    ) -> Reply | None:
        context = context_of(question)
        request = self.request(text, context)
        if request.understood:
            return self.offer(request, context)
        if said == "no":
            if context.get("move"):
                return Reply("All right, your call stays as it is.", [])
            return Reply("All right, I won't book a call.", [])
        if said == "yes":
            return Reply(f"When would suit you? {EXAMPLES}", [question])
        return None

    def answer_confirm(
        self, question: dict[str, Any], text: str, said: str | None, real_yes: bool
    ) -> Reply | None:
        context = context_of(question)
        start = from_stored(question["start"])
        day = start.astimezone(self.tz).date()
        request = self.request(self.on_day(text, day), context)
        other_time = request.preferred is not None and request.preferred != start
        if said == "yes" and not other_time:
            if not real_yes:
                return Reply(
                    f"Sorry, I didn't quite catch that. {question['text']}",
                    [question],
                )
            return self.book(start, context)
        if request.understood and request.preferred != start:
            # "No, Friday would be better", "yes, but make it 3 o'clock".
            return self.offer(request, context)
        if said == "no":
            return self.not_booked(question)
        return None

    def answer_choice(
        self, question: dict[str, Any], text: str, said: str | None, real_yes: bool
    ) -> Reply | None:
        context = context_of(question)
        options = [from_stored(start) for start in question["starts"]]
        meant = [] if said == "no" else self.options_meant(options, text)
        if len(meant) == 1:
            return self.book(options[meant[0]], context)
        if len(meant) > 1:
            narrower = [options[n] for n in meant]
            times = self.say_times(narrower, context.get("every_weeks"))
            asked = {
                **question,
                "starts": [stored(start) for start in narrower],
                "text": f"Which would suit you: {times}?",
            }
            return Reply(f"Which time would suit you: {times}?", [asked])
        days = {option.astimezone(self.tz).date() for option in options}
        if len(days) == 1:
            text = self.on_day(text, days.pop())
        request = self.request(text, context)
        if request.understood:
            return self.offer(request, context)
        if said == "yes":
            if len(options) == 1 and real_yes:
                return self.book(options[0], context)
            return Reply(f"Sorry, which one? {question['text']}", [question])
        if said == "no":
            return self.not_booked(question)
        return None

    def answer_which_call(
        self, question: dict[str, Any], text: str, said: str | None
    ) -> Reply | None:
        calls = [get_booking(self.db, booking_id) for booking_id in question["calls"]]
        calls = [c for c in calls if c and c.status == "booked" and c.start > self.now]
        if said == "no":
            return Reply("All right, I've left your calls as they are.", [])
        if not calls:
            return Reply("I can't find those calls any more.", [])
        meant = self.options_meant([call.start for call in calls], text)
        if len(meant) != 1:
            if said == "yes" and len(calls) == 1:
                meant = [0]
            elif understand_when(text, self.now, self.tz).understood or meant:
                lead = (
                    "Which one do you mean?" if meant else "I can't find a call then."
                )
                return Reply(f"{lead} {question['text']}", [question])
            else:
                return None
        call = calls[meant[0]]
        if question["purpose"] == "cancel":
            regular = REGULAR_CALLS.search(text.lower()) is not None
            return self.confirm_cancel([call], whole_series=regular)
        return self.move(call, question.get("new_time") or "")

    def answer_cancel(
        self, question: dict[str, Any], said: str | None, real_yes: bool
    ) -> Reply | None:
        if said == "yes":
            if not real_yes:
                return Reply(
                    f"Sorry, I didn't quite catch that. {question['text']}",
                    [question],
                )
            return self.cancelled(question)
        if said == "no":
            if question.get("series") or len(question.get("bookings") or []) > 1:
                return Reply("All right, your calls stay as they are.", [])
            return Reply("All right, your call stays as it is.", [])
        return None

    # --- starting a flow --------------------------------------------------------

    def ask_for_call(self, text: str) -> Reply:
        lowered = text.lower()
        context = dict.fromkeys(CONTEXT_KEYS)
        if REGULAR.search(lowered):
            context["every_weeks"] = 2 if FORTNIGHTLY.search(lowered) else 1
        request = self.request(text, context)
        if request.understood:
            return self.offer(request, context)
        if context["every_weeks"]:
            return self.ask_when(
                context,
                "A regular call, lovely. Which day of the week would suit you, "
                'and what time of day? For example "every Tuesday morning".',
            )
        return self.ask_when(
            context,
            "Of course, a volunteer would be glad to ring you for a chat. When "
            f"would suit you? {EXAMPLES}",
        )

    def move(self, call: Booking, new_time: str) -> Reply:
        """Offer new times for one call, from the words said about when."""
        context = {**dict.fromkeys(CONTEXT_KEYS), "move": call.id}
        # "Can it be at 3 instead?": the same day, at another time.
        new_time = self.on_day(new_time, call.start.astimezone(self.tz).date())
        request = self.request(new_time, context) if new_time else None
        if request is not None and request.understood:
            return self.offer(request, context)
        return self.ask_when(
            context,
            f"Of course. When would suit you instead of {self.say(call.start)}?",
        )

    def move_request(self, text: str) -> Reply:
        calls = self.upcoming()
        if not calls:
            return self.ask_when(
                dict.fromkeys(CONTEXT_KEYS),
                "You don't have a call booked at the moment. If you'd like "
                "one, just tell me when would suit you.",
            )
        old_words, new_words = split_move(text, self.now, self.tz)
        meant = self.calls_meant(calls, old_words) if old_words else calls
        if not meant:
            meant = calls
        if len(meant) > 1:
            return self.which_call(meant, "move", new_words)
        return self.move(meant[0], new_words)

    def cancel_request(self, text: str) -> Reply:
        calls = self.upcoming()
        if not calls:
            return Reply(
                "You don't have any calls booked, so there's nothing to cancel.", []
            )
        lowered = text.lower()
        regular = REGULAR_CALLS.search(lowered) is not None
        every_one = ALL_OF_THEM.search(lowered) is not None
        meant = self.calls_meant(calls, text)
        lead = ""
        if not meant:
            lead = "I can't find a call booked then."
            meant = calls
        if regular and any(call.series_id for call in meant):
            meant = [call for call in meant if call.series_id]
        if (regular or every_one) and not lead:
            return self.confirm_cancel(meant, whole_series=True)
        if len(meant) == 1:
            return self.confirm_cancel(meant, whole_series=False)
        return self.which_call(meant, "cancel", "", lead)

    def listing(self) -> str:
        """The resident's calls in a sentence; a regular call is said once."""
        calls = self.upcoming()
        if not calls:
            return (
                "You don't have any calls booked. If you'd like a volunteer to "
                "ring you for a chat, just tell me when suits you, for example "
                '"tomorrow afternoon".'
            )
        said, seen_series = [], set()
        for call in calls:
            name = self.volunteer_first_name(call.volunteer_id)
            if call.series_id is None or call.moved_from is not None:
                # A regular call moved this once is said on its own.
                said.append(f"{self.say(call.start)} with {name}")
                continue
            if call.series_id in seen_series:
                continue
            seen_series.add(call.series_id)
            series = get_series(self.db, call.series_id)
            every = "every" if series.every_weeks == 1 else "every other"
            said.append(
                f"{every} {WEEKDAY_NAMES[series.weekday]} at "
                f"{describe_clock(series.local_time)} with {name}, the next one "
                f"{self.say(call.start)}"
            )
        more = len(said) - MOST_CALLS_LISTED
        said = said[:MOST_CALLS_LISTED] + ([f"{more} more"] if more > 0 else [])
        if len(said) == 1:
            return f"You have a call booked {said[0]}."
        return f"You have {len(said)} calls booked: {join_and(said)}."
