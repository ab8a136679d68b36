"""Actions for the conversation itself: greetings, yes and no, repeat, help."""

from __future__ import annotations

import re

from rasa_sdk import Action

from actions.basket import answer_pending_choice, finish, new_request
from actions.calls import answer_call_question
from actions.common import (
    last_bot_text,
    latest_text,
    pending_questions,
    set_pending,
    shop,
)
from actions.orders import cancel_confirmed_order, place_confirmed_order
from actions.shopping import ask
from assistant.basket import basket_lines, empty_basket
from assistant.residents import get_resident
from assistant.wording import basket_summary, read_back

# Questions whose yes changes something that matters: it must be a real yes.
CONSEQUENTIAL = {"confirm_order", "confirm_cancel", "confirm_empty", "confirm_large"}
AFFIRMATIVE = re.compile(
    r"\b(y|ya|yah|yes|yeah|yep|yup|yess+|aye|ok|okay|okey|sure|certainly|"
    r"definitely|absolutely|of course|please|go ahead|go on|do it|fine|lovely|"
    r"right|correct|alright|all right|perfect|great|brilliant|smashing|grand|"
    r"indeed|send|place|that'?s it|that'?s right|that'?s fine|that'?s lovely|"
    r"cancel it|empty it|confirm|agreed|by all means|why not|sounds good|"
    r"spot on|just the job|yes please|righto|righty ho|right you are|"
    r"go for it|i should think so|that'?s the one|you bet|rather)\b"
)
HELP_TEXT = (
    "You can tell me what you'd like, for example \"two pints of milk and a "
    'loaf". You can ask me to take something out, change how many, or read '
    'your basket. When you\'re ready, say "place my order". You can ask '
    "\"where's my order?\" at any time. And if you'd rather talk to a real "
    "person, just say so."
)


def first_name(resident_id: str) -> str:
    resident = get_resident(shop().db, resident_id)
    if resident is None or not resident.name:
        return ""
    words = resident.name.split()
    titles = {"mr", "mrs", "miss", "ms", "dr", "mx"}
    if len(words) > 1 and words[0].lower().strip(".") in titles:
        return " ".join(words[:2])
    return words[0]


class ActionGreet(Action):
    def name(self) -> str:
        return "action_greet"

    def run(self, dispatcher, tracker, domain):
        name = first_name(tracker.sender_id)
        lines = basket_lines(shop().db, tracker.sender_id)
        greeting = f"Hello {name}!" if name else "Hello!"
        if lines:
            text = f"{greeting} {basket_summary(lines)} What else can I get you?"
        else:
            text = f"{greeting} What can I get you today?"
        dispatcher.utter_message(text=text)
        return []


class ActionGoodbye(Action):
    def name(self) -> str:
        return "action_goodbye"

    def run(self, dispatcher, tracker, domain):
        name = first_name(tracker.sender_id)
        lines = basket_lines(shop().db, tracker.sender_id)
        kept = " Your basket is saved for next time." if lines else ""
        dispatcher.utter_message(
            text=f"Goodbye{', ' + name if name else ''}. Take care.{kept}"
        )
        return [set_pending([])]


class ActionAnswerYes(Action):
    def name(self) -> str:
        return "action_answer_yes"

    def run(self, dispatcher, tracker, domain):
        real_yes = AFFIRMATIVE.search(latest_text(tracker).lower()) is not None
        answered = answer_call_question(dispatcher, tracker, "yes", real_yes)
        if answered is not None:
            return answered
        answered = answer_pending_choice(dispatcher, tracker)
        if answered is not None:
            return answered
        the_shop = shop()
        questions = pending_questions(tracker)
        if not questions:
            dispatcher.utter_message(
                text="What would you like me to do? You can add things, hear "
                "your basket, or place your order."
            )
            return []
        question = questions.pop(0)
        kind = question["kind"]
        if kind == "choose":
            dispatcher.utter_message(
                text="Which one would you like? " + ask(question, the_shop.index)
            )
            return [set_pending([question, *questions])]
        if kind in CONSEQUENTIAL and not AFFIRMATIVE.search(
            latest_text(tracker).lower()
        ):
            # Placing, cancelling or emptying needs a real yes: a stray key
            # press that the model took for one is asked about again.
            dispatcher.utter_message(
                text="Sorry, I didn't quite catch that. "
                + ask(question, the_shop.index)
                + (
                    ""
                    if "yes or no" in ask(question, the_shop.index)
                    else " Please say yes or no."
                )
            )
            return [set_pending([question, *questions])]
        if kind == "confirm_order":
            text, follow = place_confirmed_order(the_shop, tracker.sender_id, question)
            dispatcher.utter_message(text=text)
            return [set_pending(follow)]
        if kind == "confirm_cancel":
            dispatcher.utter_message(
                text=cancel_confirmed_order(the_shop, tracker.sender_id, question)
            )
            return [set_pending([])]
        if kind == "confirm_empty":
            empty_basket(the_shop.db, tracker.sender_id)
            dispatcher.utter_message(
                text="Your basket is empty now. What would you like instead?"
            )
            return [set_pending([])]
        if kind == "read_basket":
            lines = basket_lines(the_shop.db, tracker.sender_id)
            dispatcher.utter_message(text="\n".join(read_back(lines)))
            return [set_pending(questions)]
        request = new_request(tracker)
        if question.get("purpose") == "set":
            request.set_to(question["sku"], question["quantity"], confirmed=True)
        else:
            request.add(question["sku"], question["quantity"], confirmed=True)
        return finish(dispatcher, request, questions)


class ActionAnswerNo(Action):
    def name(self) -> str:
        return "action_answer_no"

    def run(self, dispatcher, tracker, domain):
        answered = answer_call_question(dispatcher, tracker, "no")
        if answered is not None:
            return answered
        answered = answer_pending_choice(dispatcher, tracker)
        if answered is not None:
            return answered
        the_shop = shop()
        questions = pending_questions(tracker)
        if not questions:
            dispatcher.utter_message(text="All right. What would you like to do?")
            return []
        question = questions.pop(0)
        replies = {
            "confirm_order": "All right, I haven't placed the order. Your basket "
            "is kept. What would you like to change?",
            "confirm_cancel": "All right, your order stays as it is.",
            "confirm_empty": "All right, I've left your basket as it is.",
            "read_basket": "All right.",
        }
        text = replies.get(question["kind"], "All right, I've left that out.")
        if questions:
            text += " " + ask(questions[0], the_shop.index)
        elif question["kind"] in ("choose", "suggest", "confirm_large"):
            text += " Anything else?"
        dispatcher.utter_message(text=text)
        return [set_pending(questions)]


class ActionRepeat(Action):
    def name(self) -> str:
        return "action_repeat"

    def run(self, dispatcher, tracker, domain):
        last = last_bot_text(tracker)
        if last is None:
            dispatcher.utter_message(
                text="I haven't said anything yet. What can I get you today?"
            )
        else:
            dispatcher.utter_message(text=last)
        return []


class ActionHelp(Action):
    def name(self) -> str:
        return "action_help"

    def run(self, dispatcher, tracker, domain):
        dispatcher.utter_message(text=HELP_TEXT)
        return []
