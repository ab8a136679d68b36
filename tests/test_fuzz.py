"""Property-based fuzzing, for a bounded time, of request reading and webhooks."""

import xml.etree.ElementTree as ElementTree
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from assistant.app import create_app
from assistant.choosing import make_choice, narrow
from assistant.config import load_settings
from assistant.parsing import numbers_said, parse_request
from tests.conftest import TWILIO_TEST_TOKEN, free_port, twilio_signature

pytestmark = pytest.mark.chaos

GROCERY_WORDS = [
    "milk", "two", "pints", "of", "semi", "skimmed", "and", "a", "loaf", "half",
    "dozen", "eggs", "x", "6", "tins", "beans", "please", "love", "no", "not",
    "the", "big", "one", "£", "&", ",", ".", "\n", "🙂", "<b>", "'", "400g",
    "another", "those", "cheapest", "for", "my", "tea",
]  # fmt: skip
MESSAGES = st.one_of(
    st.text(max_size=300),
    st.lists(st.sampled_from(GROCERY_WORDS), max_size=40).map(" ".join),
)
FUZZ = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@FUZZ
@given(text=MESSAGES)
def test_parse_request_reads_anything_without_failing(index, text):
    """Test that any text reads as products with sensible quantities, or nothing."""
    parsed = parse_request(text, index)
    for item in parsed.items:
        assert isinstance(item.quantity, int) and item.quantity >= 1
        assert item.match is None or len(item.match.products) >= 1
    assert all(isinstance(phrase, str) and phrase for phrase in parsed.unknown)
    assert all(isinstance(n, int) and n >= 0 for n in numbers_said(text))


@FUZZ
@given(answer=MESSAGES)
def test_narrow_takes_any_answer_and_stays_in_the_candidates(index, answer):
    """Test that any answer to "which milk?" narrows within the candidates."""
    products = list(parse_request("milk", index).items[0].match.products)
    left = narrow(products, make_choice(products, "milk"), answer, index)
    assert all(product in products for product in left)


FORM_FIELDS = st.dictionaries(
    st.sampled_from(["From", "Body", "MessageSid", "To", "NumMedia", "SmsSid", "x"]),
    st.text(max_size=200),
    max_size=6,
)


@pytest.fixture(scope="module")
def offline_gateway(tmp_path_factory):
    """A real gateway on a fresh store, with no Rasa running: each message is
    answered kindly and queued for a person."""
    data = tmp_path_factory.mktemp("fuzz")
    environ = {
        "HH_DATA_DIR": str(data),
        "TWILIO_AUTH_TOKEN": TWILIO_TEST_TOKEN,
        "HH_PUBLIC_URL": "https://hh.example.org",
        "HH_RASA_PORT": str(free_port()),
        "HH_ACTIONS_PORT": str(free_port()),
        "HH_RASA_TIMEOUT": "2",
    }
    with TestClient(create_app(load_settings(environ))) as client:
        yield client


@settings(max_examples=60, deadline=None)
@given(fields=FORM_FIELDS, signed=st.booleans())
def test_sms_webhook_answers_any_form_with_twiml_or_a_clear_refusal(
    offline_gateway, fields, signed
):
    """Test that any form, signed or not, gets TwiML or a 4xx, never a crash."""
    signature = (
        twilio_signature("https://hh.example.org/twilio/sms", fields, TWILIO_TEST_TOKEN)
        if signed
        else "nonsense"
    )
    response = offline_gateway.post(
        "/twilio/sms",
        content=urlencode(fields),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": signature,
        },
    )
    if not signed:
        assert response.status_code == 403
        return
    assert response.status_code in (200, 400), response.text
    if response.status_code == 200:
        assert ElementTree.fromstring(response.text).tag == "Response"


@settings(max_examples=40, deadline=None)
@given(body=st.binary(max_size=2000))
def test_sms_webhook_survives_garbled_bodies(offline_gateway, body):
    """Test that bytes that are not a form, or not UTF-8, are refused, not fatal."""
    response = offline_gateway.post(
        "/twilio/sms",
        content=body,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": "x",
        },
    )
    assert response.status_code in (400, 403, 413)
