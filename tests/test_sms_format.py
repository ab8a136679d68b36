"""Tests of splitting long replies into text-message parts."""

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.channels.sms import SMS_PART_LIMIT, split_for_sms

BASKET_LINES = [
    "2 Semi-Skimmed Milk, 2 pints: £2.90.",
    "1 Medium Sliced White Bread, 800g: 79p.",
    "3 Baked Beans in Tomato Sauce, 400g tin: £1.80.",
    "1 Medium Free Range Eggs, 6 pack: £1.75.",
    "2 Salted Butter, 250g: £4.50.",
    "1 Everyday Tea Bags, 80 bags: £1.60.",
    "4 Loose Banana, each: 80p.",
    "1 Mature Cheddar, 400g: £3.25.",
    "1 Digestive Biscuits, 400g: 75p.",
    "2 Cream of Tomato Soup, 400g tin: £1.40.",
]
LONG_BASKET = "\n".join(
    ["In your basket, 60 items:"] + BASKET_LINES * 6 + ["That comes to £114.84."]
)
LONG_PROSE = " ".join(
    [
        "Thank you, your order is booked.",
        "Our volunteer Susan will bring it on Tuesday between ten and twelve.",
        "She will knock twice and wait, so there is no need to rush to the door.",
        "If you are not in, she will leave it with your neighbour at number 4.",
        "You can pay her by card or with cash, whichever you prefer.",
        "If anything is missing, text us and we will sort it out.",
        "Would you like us to ring you the evening before as a reminder?",
        "Just reply yes or no.",
    ]
    * 3
)
PARAGRAPHS = "\n\n".join(
    [
        "Here is what we have for you this week.",
        LONG_PROSE,
        "\n".join(BASKET_LINES),
        "Text BASKET to hear your basket again, or PERSON to talk to a volunteer.",
    ]
)
REPLIES = {"basket": LONG_BASKET, "prose": LONG_PROSE, "paragraphs": PARAGRAPHS}
SENTENCE_END = re.compile(r"[.!?:]$")


def words_of(text: str) -> list[str]:
    return text.split()


def ends_at_a_boundary(part: str, text: str) -> bool:
    """Whether `part` ends where a sentence or a line of `text` ends."""
    if SENTENCE_END.search(part):
        return True
    last_line = part.split("\n")[-1].strip()
    return any(line.rstrip().endswith(last_line) for line in text.split("\n"))


def test_split_for_sms_leaves_a_short_reply_whole():
    """Test that a reply that fits one part is sent as it is."""
    assert split_for_sms("Your basket has 3 items, £4.05 in all.") == [
        "Your basket has 3 items, £4.05 in all."
    ]


def test_split_for_sms_leaves_a_reply_exactly_at_the_limit_whole():
    """Test that a reply of exactly the limit is not split."""
    text = "a" * (SMS_PART_LIMIT - 1) + "."
    assert split_for_sms(text) == [text]


@pytest.mark.parametrize("limit", [160, 320, SMS_PART_LIMIT])
@pytest.mark.parametrize("name", sorted(REPLIES))
def test_split_for_sms_parts_fit_the_limit(name, limit):
    """Test that no part is longer than the limit."""
    parts = split_for_sms(REPLIES[name], limit)
    assert len(parts) > 1
    assert all(len(part) <= limit for part in parts)


@pytest.mark.parametrize("limit", [160, 320, SMS_PART_LIMIT])
@pytest.mark.parametrize("name", sorted(REPLIES))
def test_split_for_sms_loses_nothing(name, limit):
    """Test that every word arrives, in order, and no part is empty."""
    parts = split_for_sms(REPLIES[name], limit)
    assert all(part.strip() for part in parts)
    assert words_of(" ".join(parts)) == words_of(REPLIES[name])


@pytest.mark.parametrize("limit", [160, 320, SMS_PART_LIMIT])
@pytest.mark.parametrize("name", sorted(REPLIES))
def test_split_for_sms_splits_at_line_and_sentence_ends(name, limit):
    """Test that each part ends where a line or a sentence ends."""
    text = REPLIES[name]
    for part in split_for_sms(text, limit):
        assert ends_at_a_boundary(part, text), part[-40:]


def test_split_for_sms_keeps_each_basket_line_on_its_own_line():
    """Test that basket lines stay whole and on their own lines in every part."""
    parts = split_for_sms(LONG_BASKET, 160)
    lines = LONG_BASKET.split("\n")
    for part in parts:
        for line in part.split("\n"):
            assert line in lines, line


def test_split_for_sms_cuts_an_endless_sentence_between_words():
    """Test that a sentence longer than a part is cut at spaces, not in words."""
    text = "You asked for " + ", ".join(["a pint of milk"] * 30) + "."
    parts = split_for_sms(text, 160)
    assert all(len(part) <= 160 for part in parts)
    assert words_of(" ".join(parts)) == words_of(text)


def test_split_for_sms_blank_line_after_a_full_part_makes_no_empty_part():
    """Test that a blank line just after a full part sends no empty message."""
    first = "Here is what Susan will bring you on Tuesday morning:"
    second = (
        "You asked for milk, bread, eggs, beans, butter, tea bags, bananas, "
        "cheese, biscuits and soup, and Susan will bring all of it"
    )
    text = f"{first}\n\n{second}."
    limit = len(first) + 1  # the first line and its newline fill a part exactly
    parts = split_for_sms(text, limit)
    assert all(part.strip() for part in parts), parts
    assert words_of(" ".join(parts)) == words_of(text)


SENTENCES = st.builds(
    lambda words, end: " ".join(words) + end,
    st.lists(
        st.sampled_from(
            ["milk", "bread", "two", "pints", "please", "love", "£1.45", "semi-skimmed"]
        ),
        min_size=1,
        max_size=25,
    ),
    st.sampled_from([".", "?", "!", ":", ""]),
)


@settings(max_examples=300, derandomize=True, deadline=None, database=None)
@given(
    sentences=st.lists(SENTENCES, min_size=1, max_size=30),
    breaks=st.lists(st.sampled_from([" ", "\n", "\n\n"]), min_size=30, max_size=30),
    limit=st.integers(min_value=40, max_value=SMS_PART_LIMIT),
)
def test_split_for_sms_any_reply(sentences, breaks, limit):
    """Test that any reply splits into non-empty parts within the limit, whole."""
    text = "".join(s + b for s, b in zip(sentences, breaks, strict=False)).strip()
    parts = split_for_sms(text, limit)
    assert all(part.strip() for part in parts)
    assert all(len(part) <= limit for part in parts)
    assert words_of(" ".join(parts)) == words_of(text)
