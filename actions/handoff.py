"""Actions that pass the resident to a person, or admit to not understanding."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused
from rasa_sdk.executor import CollectingDispatcher

from actions.basket import answer_pending_choice
from actions.call_desk import CallDesk
from actions.calls import ActionAskForCall
from actions.common import latest_text, pending_questions, set_pending, shop
from actions.shopping import ask
from assistant.handoffs import open_handoff, when_to_expect
from assistant.volunteers import on_duty

NOT_UNDERSTOOD = (
    "I'm sorry, I didn't understand that. I can help with your shopping: tell "
    'me what you\'d like, ask for your basket, or say "person" to talk to a '
    "volunteer."
)
HANDED_OVER = {
    "asked-for-person": "Of course. I've asked a volunteer to help you.",
    "low-confidence": (
        "I'm sorry, I'm not sure I understood, and I'd rather not guess. I've "
        "asked a volunteer to help you."
    ),
    "misunderstood-twice": (
        "I'm sorry, I'm not getting this right. I've asked a volunteer to help you."
    ),
}
NOT_UNDERSTOOD_INTENTS = {"out_of_scope", "nlu_fallback"}
RINGING = re.compile(r"\b(ring|rings|call|calls|phone|phones)\b")
# Words that want a person now, whatever time they also name.
AT_ONCE = re.compile(
    r"\b(now|asap|soon|straight away|right away|at once|immediately|urgent|"
    r"urgently|minutes?|quick|quickly)\b"
)


def hand_over(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    reason: str,
    confidence: float | None = None,
) -> list[Any]:
    """Open a handoff, pause the assistant and say what happens next.

    The gateway learns of the handoff from the custom payload, and tells the
    volunteers.
    """
    the_shop = shop()
    channel = (tracker.latest_message.get("metadata") or {}).get("channel")
    handoff, _ = open_handoff(
        the_shop.db,
        tracker.sender_id,
        reason,
        confidence=confidence,
        channel=channel,
    )
    when = when_to_expect(
        len(on_duty(the_shop.db)),
        datetime.now(timezone.utc),
        the_shop.settings.volunteer_hours_range,
        the_shop.settings.timezone,
    )
    dispatcher.utter_message(
        text=f"{HANDED_OVER[reason]} {when} Your basket is kept safe meanwhile."
    )
    dispatcher.utter_message(json_message={"handoff": handoff.id})
    # An open question must not be answered by a later, unrelated "yes".
    return [set_pending([]), ConversationPaused()]


def classifier_confidence(tracker: Tracker) -> float | None:
    """The classifier's own confidence in its best intent, before the fallback."""
    ranking = tracker.latest_message.get("intent_ranking") or []
    for entry in ranking:
        if entry.get("name") != "nlu_fallback":
            return entry.get("confidence")
    return None


def misunderstood_before(tracker: Tracker) -> bool:
    """Whether the resident's previous message was not understood either."""
    seen_latest = False
    for event in reversed(tracker.events):
        if event.get("event") == "resume":
            return False  # a volunteer has been in the conversation since
        if event.get("event") != "user":
            continue
        if not seen_latest:
            seen_latest = True
            continue
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        return intent in NOT_UNDERSTOOD_INTENTS
    return False


class ActionRequestHuman(Action):
    def name(self) -> str:
        return "action_request_human"

    def run(self, dispatcher, tracker, domain):
        if asks_to_be_rung_later(tracker):
            # "Could someone ring me tomorrow": a call to book, not a person
            # to fetch now.
            return ActionAskForCall().run(dispatcher, tracker, domain)
        return hand_over(dispatcher, tracker, "asked-for-person")


def asks_to_be_rung_later(tracker: Tracker) -> bool:
    """Whether a request for a person asks to be rung at a time named: a day
    or a part of one, not "now" or "as soon as you can"."""
    text = latest_text(tracker)
    lowered = text.lower()
    if not RINGING.search(lowered) or AT_ONCE.search(lowered):
        return False
    request = CallDesk(tracker.sender_id).request(text, {})
    return bool(request.windows) and not request.flexible


class ActionNotUnderstood(Action):
    """Low confidence goes to a person at once; a second misunderstanding in a
    row does too. A first out-of-scope message gets a kind word and examples."""

    def name(self) -> str:
        return "action_not_understood"

    def run(self, dispatcher, tracker, domain):
        answered = answer_pending_choice(dispatcher, tracker)
        if answered is not None:
            return answered
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if intent == "nlu_fallback":
            return hand_over(
                dispatcher, tracker, "low-confidence", classifier_confidence(tracker)
            )
        if misunderstood_before(tracker):
            return hand_over(dispatcher, tracker, "misunderstood-twice")
        questions = pending_questions(tracker)
        if questions:
            dispatcher.utter_message(
                text="Sorry, I didn't follow. " + ask(questions[0], shop().index)
            )
            return []
        dispatcher.utter_message(text=NOT_UNDERSTOOD)
        return []
