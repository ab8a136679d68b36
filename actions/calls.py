"""Actions for calls with volunteers: asking for one, choosing and confirming
the time, hearing, moving and cancelling calls, and regular weekly calls.

Each question waits in the `pending` slot like every other question. Its
kind is one of CALL_KINDS:

- "call_when": when would suit? Any time said answers it.
- "confirm_call": a time read back; only a clear yes books it.
- "choose_call_time": free times offered; the resident picks one by
  position ("the first", "the second one", "2"), by time ("the 2pm", "Friday")
  or not at all ("I don't mind" is the first).
- "choose_call": which of the resident's calls to move or cancel.
- "confirm_cancel_call": a call (or a regular series) about to be cancelled.

While one is open the `call_question` slot is "open", and a rule sends every
message, whatever its intent, to `action_answer_call_question`: a message
that answers the question is taken as the answer; any other goes on to the
action its intent would have had. Yes and no reach these questions through
`action_answer_yes` and `action_answer_no`.

Every question carries what is being arranged: a new call, a move of call
`move`, a regular call every `every_weeks` weeks, or a new time for missed
call `rebook_of` with volunteer `prefer`.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from rasa_sdk import Action
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.call_desk import CallDesk, Reply
from actions.common import latest_text, pending_questions, set_pending, shop
from actions.shopping import ask

logger = logging.getLogger(__name__)

CALL_KINDS = {
    "call_when",
    "confirm_call",
    "choose_call_time",
    "choose_call",
    "confirm_cancel_call",
}


def others(questions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The questions that are not about calls, kept behind a call question."""
    return [q for q in questions if q.get("kind") not in CALL_KINDS]


def call_question_slot(questions: list[dict[str, Any]]) -> SlotSet:
    """ "open" while any call question waits, so the rule catches the answer."""
    is_open = any(q.get("kind") in CALL_KINDS for q in questions)
    return SlotSet("call_question", "open" if is_open else None)


def respond(
    dispatcher: CollectingDispatcher, reply: Reply, rest: list[dict[str, Any]]
) -> list[Any]:
    """Say the reply, ask what is still open, and keep the questions."""
    questions = reply.questions + rest
    text = reply.text
    if not reply.questions and rest:
        text += " " + ask(rest[0], shop().index)
    dispatcher.utter_message(text=text)
    return [set_pending(questions), call_question_slot(questions)]


def answer_call_question(
    dispatcher: CollectingDispatcher,
    tracker,
    said: str | None = None,
    real_yes: bool = True,
) -> list[Any] | None:
    """If the message answers the call question asked last, act on the answer.

    Args:
        said: "yes" or "no" when the message was taken for one.
        real_yes: whether a yes is an unmistakable one; booking needs it.

    Returns:
        The events of the answer, or None when the message did not answer.
    """
    questions = pending_questions(tracker)
    if not questions or questions[0].get("kind") not in CALL_KINDS:
        return None
    desk = CallDesk(tracker.sender_id)
    reply = desk.answer(questions[0], latest_text(tracker), said, real_yes)
    if reply is None:
        return None
    return respond(dispatcher, reply, others(questions[1:]))


def start_afresh(dispatcher, tracker, reply: Reply) -> list[Any]:
    """A new call flow: earlier call questions are dropped, others kept."""
    return respond(dispatcher, reply, others(pending_questions(tracker)))


class ActionAskForCall(Action):
    def name(self) -> str:
        return "action_ask_for_call"

    def run(self, dispatcher, tracker, domain):
        answered = answer_call_question(dispatcher, tracker)
        if answered is not None:
            return answered
        desk = CallDesk(tracker.sender_id)
        return start_afresh(
            dispatcher, tracker, desk.ask_for_call(latest_text(tracker))
        )


class ActionMyCalls(Action):
    def name(self) -> str:
        return "action_my_calls"

    def run(self, dispatcher, tracker, domain):
        questions = pending_questions(tracker)
        text = CallDesk(tracker.sender_id).listing()
        if questions:
            text += " " + ask(questions[0], shop().index)
        dispatcher.utter_message(text=text)
        return [call_question_slot(questions)]


class ActionMoveCall(Action):
    def name(self) -> str:
        return "action_move_call"

    def run(self, dispatcher, tracker, domain):
        answered = answer_call_question(dispatcher, tracker)
        if answered is not None:
            return answered
        desk = CallDesk(tracker.sender_id)
        return start_afresh(
            dispatcher, tracker, desk.move_request(latest_text(tracker))
        )


class ActionCancelCall(Action):
    def name(self) -> str:
        return "action_cancel_call"

    def run(self, dispatcher, tracker, domain):
        questions = pending_questions(tracker)
        kind = questions[0].get("kind") if questions else None
        if kind == "confirm_cancel_call":
            # Asked again while the question is open: a second request to cancel.
            answered = answer_call_question(dispatcher, tracker, "yes", True)
        elif kind in ("call_when", "confirm_call", "choose_call_time"):
            # "Don't bother with the call" while a time is being found: a no.
            answered = answer_call_question(dispatcher, tracker, "no")
        else:
            answered = None
        if answered is not None:
            return answered
        desk = CallDesk(tracker.sender_id)
        return start_afresh(
            dispatcher, tracker, desk.cancel_request(latest_text(tracker))
        )


def action_for_intent(intent: str | None):
    """The action an intent's own rule runs, for a message that turned out not
    to answer the open call question."""
    # Imported here: actions.conversation imports this module.
    from actions.basket import (
        ActionAddItems,
        ActionAskProduct,
        ActionChangeQuantity,
        ActionEmptyBasket,
        ActionReadBasket,
        ActionRemoveItem,
    )
    from actions.conversation import ActionGoodbye, ActionGreet, ActionHelp
    from actions.handoff import ActionNotUnderstood
    from actions.orders import ActionCancelOrder, ActionOrderStatus, ActionPlaceOrder

    actions = {
        "greet": ActionGreet,
        "goodbye": ActionGoodbye,
        "add_item": ActionAddItems,
        "remove_item": ActionRemoveItem,
        "change_quantity": ActionChangeQuantity,
        "empty_basket": ActionEmptyBasket,
        "read_basket": ActionReadBasket,
        "place_order": ActionPlaceOrder,
        "order_status": ActionOrderStatus,
        "cancel_order": ActionCancelOrder,
        "ask_product": ActionAskProduct,
        "help": ActionHelp,
    }
    return actions.get(intent or "", ActionNotUnderstood)()


class ActionAnswerCallQuestion(Action):
    """Any message while a call question is open: the answer if it is one,
    otherwise what its intent would have done."""

    def name(self) -> str:
        return "action_answer_call_question"

    def run(self, dispatcher, tracker, domain):
        answered = answer_call_question(dispatcher, tracker)
        if answered is not None:
            return answered
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if intent == "thank":
            dispatcher.utter_message(response="utter_you_are_welcome")
            return [call_question_slot(pending_questions(tracker))]
        events = action_for_intent(intent).run(dispatcher, tracker, domain)
        questions = pending_questions(tracker)
        for event in events:
            if event.get("event") == "slot" and event.get("name") == "pending":
                questions = json_questions(event.get("value"))
        return [*events, call_question_slot(questions)]


def json_questions(value: object) -> list[dict[str, Any]]:
    """The questions in a `pending` slot value."""
    try:
        questions = json.loads(value) if isinstance(value, str) else []
    except ValueError:
        return []
    return questions if isinstance(questions, list) else []
