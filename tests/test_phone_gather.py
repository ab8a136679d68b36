"""Phone calls with Twilio's own speech (`<Gather>`): webhooks signed as Twilio
signs them, through a real gateway, Rasa and action server."""

import itertools
import xml.etree.ElementTree as ElementTree

import pytest

from assistant.handoffs import active_handoff
from assistant.residents import add_resident, find_by_phone
from assistant.volunteers import add_volunteer, all_volunteers, set_on_duty
from tests.conftest import TWILIO_TEST_NUMBER, TWILIO_TEST_SID, signed_post

pytestmark = pytest.mark.stack

_numbers = itertools.count(700)
_calls = itertools.count(1)


class Caller:
    """One resident ringing in, turn by turn, as Twilio would post."""

    def __init__(self, gateway, phone: str) -> None:
        self.base_url = gateway.base_url
        self.public_url = "https://helping-hands.example.org"
        self.phone = phone
        self.call_sid = f"CA{next(_calls):032d}"
        self.next_action = "/twilio/voice"

    def post(self, path: str, **fields: str):
        params = {
            "CallSid": self.call_sid,
            "AccountSid": TWILIO_TEST_SID,
            "From": self.phone,
            "To": TWILIO_TEST_NUMBER,
            **fields,
        }
        return signed_post(self.base_url, self.public_url, path, params)

    def ring(self) -> ElementTree.Element:
        return self.answer(self.post("/twilio/voice", CallStatus="ringing"))

    def say(self, words: str = "", key: str = "") -> ElementTree.Element:
        fields = {"SpeechResult": words, "Confidence": "0.9"} if words else {}
        if key:
            fields["Digits"] = key
        return self.answer(self.post(self.next_action, **fields))

    def answer(self, response) -> ElementTree.Element:
        assert response.status_code == 200, response.text
        root = ElementTree.fromstring(response.text)
        gather = root.find("Gather")
        if gather is not None:
            self.next_action = gather.get("action")
        return root

    def hang_up(self, status: str = "completed"):
        return self.post("/twilio/voice/status", CallStatus=status)


def spoken(root: ElementTree.Element) -> str:
    return " ".join(say.text or "" for say in root.iter("Say"))


def registered(stack, name: str = "Peggy Lane") -> str:
    phone = f"+4477009{next(_numbers):05d}"
    db = stack.db()
    add_resident(db, phone, name, "8 Lime Grove, Anytown AB1 5CD")
    db.close()
    return phone


def basket_count(stack, phone: str) -> int:
    db = stack.db()
    resident = find_by_phone(db, phone)
    count = db.execute(
        "SELECT coalesce(sum(quantity), 0) FROM basket_lines WHERE resident_id = ?",
        [resident.id],
    ).fetchone()[0]
    db.close()
    return count


def test_known_caller_is_greeted_by_name_and_told_the_keys_once(stack, gather_gateway):
    """Test the greeting: by name, with the keys explained on the first call only."""
    phone = registered(stack)
    first = Caller(gather_gateway, phone).ring()
    gather = first.find("Gather")
    assert gather.get("input") == "speech dtmf"
    assert gather.get("language") == "en-GB"
    assert "semi-skimmed" in gather.get("hints")
    say = gather.find("Say")
    assert say.get("voice") == "Polly.Amy" and say.get("language") == "en-GB"
    assert "Hello Peggy" in spoken(first)
    assert "press 0" in spoken(first)
    again = Caller(gather_gateway, phone).ring()
    assert "Hello Peggy" in spoken(again) and "press 0" not in spoken(again)


def test_unknown_caller_is_offered_sign_up_or_a_volunteer(stack, gather_gateway):
    """Test that a number we don't know is asked for a name, or to press 0."""
    caller = Caller(gather_gateway, f"+4477009{next(_numbers):05d}")
    greeting = spoken(caller.ring())
    assert "don't know this number" in greeting and "press 0" in greeting
    assert "address" in spoken(caller.say("my name is Walter Price"))


@pytest.mark.chaos
def test_forged_or_missing_signature_is_refused(stack, gather_gateway):
    """Test that voice webhooks are signature-checked like SMS."""
    params = {"CallSid": "CAforged", "From": "+447700900123", "To": TWILIO_TEST_NUMBER}
    public = stack.env["HH_PUBLIC_URL"]
    for path in (
        "/twilio/voice",
        "/twilio/voice/gather?turn=1",
        "/twilio/voice/status",
    ):
        forged = signed_post(gather_gateway.base_url, public, path, params, "forged")
        missing = signed_post(gather_gateway.base_url, public, path, params, "")
        assert (forged.status_code, missing.status_code) == (403, 403)


def test_spoken_order_changes_the_basket_and_is_read_in_words(stack, gather_gateway):
    """Test that speech goes to the assistant and the reply is spoken plainly."""
    phone = registered(stack)
    caller = Caller(gather_gateway, phone)
    caller.ring()
    reply = caller.say("two tins of tomato soup please")
    assert "added" in spoken(reply)
    assert "£" not in spoken(reply)
    assert "pence" in spoken(reply) or "pound" in spoken(reply)
    assert basket_count(stack, phone) == 2


def test_a_repeated_gather_webhook_is_acted_on_once(stack, gather_gateway):
    """Test that Twilio retrying a turn does not add the soup twice."""
    phone = registered(stack)
    caller = Caller(gather_gateway, phone)
    caller.ring()
    action = caller.next_action
    caller.say("a jar of clear honey please")
    caller.next_action = action
    caller.say("a jar of clear honey please")
    assert basket_count(stack, phone) == 1


def test_star_repeats_the_last_reply(stack, gather_gateway):
    """Test that the star key says the last reply again."""
    phone = registered(stack)
    caller = Caller(gather_gateway, phone)
    caller.ring()
    reply = spoken(caller.say("a jar of clear honey please"))
    assert spoken(caller.say(key="*")) == reply


def test_silence_is_met_gently_then_a_kind_goodbye(stack, gather_gateway):
    """Test two gentle reprompts, then a goodbye, a hang-up and a call back."""
    phone = registered(stack)
    caller = Caller(gather_gateway, phone)
    caller.ring()
    for _ in range(2):
        assert "still there" in spoken(caller.say())
    goodbye = caller.say()
    assert "ring back" in spoken(goodbye) or "ring you back" in spoken(goodbye)
    assert goodbye.find("Hangup") is not None
    db = stack.db()
    handoff = active_handoff(db, find_by_phone(db, phone).id)
    db.close()
    assert handoff.reason == "silent-call"


def test_key_zero_bridges_to_the_volunteer_on_duty_showing_our_number(
    stack, gather_gateway
):
    """Test that 0 puts the caller through to the volunteer on duty, with our
    number shown, never the resident's."""
    db = stack.db()
    duty = [(v.id, v.on_duty) for v in all_volunteers(db)]
    for volunteer_id, _ in duty:
        set_on_duty(db, volunteer_id, False)
    volunteer = add_volunteer(
        db,
        f"bridge{next(_numbers)}",
        "Bridget",
        "a long password here",
        phone="+447700900888",
    )
    set_on_duty(db, volunteer.id, True)
    try:
        phone = registered(stack)
        caller = Caller(gather_gateway, phone)
        caller.ring()
        bridged = caller.say(key="0")
    finally:
        set_on_duty(db, volunteer.id, False)
        for volunteer_id, was in duty:
            set_on_duty(db, volunteer_id, was)
    dial = bridged.find("Dial")
    assert dial is not None, ElementTree.tostring(bridged)
    assert dial.get("callerId") == TWILIO_TEST_NUMBER
    assert dial.find("Number").text == "+447700900888"
    handoff = active_handoff(db, find_by_phone(db, phone).id)
    db.close()
    assert handoff.reason == "asked-for-person"

    answered = caller.post(
        dial.get("action"), DialCallStatus="completed", DialCallDuration="60"
    )
    assert answered.status_code == 200
    db = stack.db()
    assert active_handoff(db, handoff.resident_id).claimed_by == volunteer.id
    db.close()


def test_key_zero_with_nobody_to_bridge_arranges_a_call_back(stack, gather_gateway):
    """Test that with no volunteer's phone on duty, the caller is rung back."""
    db = stack.db()
    duty = [(v.id, v.on_duty) for v in all_volunteers(db)]
    for volunteer_id, _ in duty:
        set_on_duty(db, volunteer_id, False)
    try:
        caller = Caller(gather_gateway, registered(stack))
        caller.ring()
        reply = caller.say(key="0")
    finally:
        for volunteer_id, was in duty:
            set_on_duty(db, volunteer_id, was)
        db.close()
    assert "ring you back" in spoken(reply)
    assert reply.find("Hangup") is not None


def test_call_end_texts_a_summary_once_and_the_next_call_picks_up(
    stack, gather_gateway, twilio_recorder
):
    """Test that a call that changed the basket ends with one SMS summary, and
    that the next call (after a dropped one) starts from the same basket."""
    phone = registered(stack)
    caller = Caller(gather_gateway, phone)
    caller.ring()
    caller.say("a box of cornflakes please")
    assert caller.hang_up().status_code == 204
    assert caller.hang_up().status_code == 204
    summaries = twilio_recorder.messages_to(phone)
    assert len(summaries) == 1
    assert "after your call" in summaries[0] and "Corn Flakes" in summaries[0]

    next_call = Caller(gather_gateway, phone).ring()
    assert "From before, your basket has 1 item" in spoken(next_call)


def test_local_speech_connects_the_call_to_our_media_stream(stack):
    """Test that by default a call is connected to /twilio/media over wss."""
    caller = Caller(stack, registered(stack))
    root = caller.answer(caller.post("/twilio/voice", CallStatus="ringing"))
    stream = root.find("Connect/Stream")
    assert stream is not None, ElementTree.tostring(root)
    assert stream.get("url") == "wss://helping-hands.example.org/twilio/media"
    assert stream.find("Parameter").get("value") == caller.call_sid
