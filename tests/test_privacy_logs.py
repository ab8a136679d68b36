"""Logs at INFO hold no resident's words, name, address or full phone number."""

import pytest

pytestmark = pytest.mark.stack

PHONE = "+447700900919"
NAME = "Zebedee Quimby"
ADDRESS = "77 Xylophone Crescent, Anytown AB9 9XY"
WORDS = [
    "a jar of clear honey and two tins of marrowfat peas for my sister Ottoline",
    "can I speak to a real person about Ottoline please",
    "I've had a fall near the Quimby bench",
]


def test_logs_at_info_hold_no_personal_data(stack):
    """Test that a whole conversation leaves no personal data in the INFO logs
    of the gateway, the Rasa server and the action server."""
    stack.sms(PHONE, "hello")
    stack.sms(PHONE, NAME)
    stack.sms(PHONE, ADDRESS)
    for words in WORDS:
        stack.sms(PHONE, words)

    log = stack.log_tail(10_000_000)

    assert "sms received from …0919" in log  # the masked number is logged
    for secret in [
        PHONE,
        PHONE[1:],
        "7700900919",
        "Zebedee",
        "Quimby",
        "Xylophone",
        "Ottoline",
        "marrowfat",
        "Crescent",
    ]:
        assert secret not in log, f"{secret!r} appears in the logs"
