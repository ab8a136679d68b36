"""Words of emergency or distress are noticed; everyday shopping words are not."""

import pytest

from assistant.safety import sounds_like_distress


@pytest.mark.parametrize(
    "text",
    [
        "I've had a fall",
        "I fell over in the kitchen and can't get up",
        "i have fallen",
        "I'm on the floor",
        "I've got chest pains",
        "terrible pain in my chest",
        "I can't breathe",
        "I'm struggling to breathe",
        "I'm frightened",
        "I am really scared",
        "someone's at the door and won't go",
        "there's a man outside my window",
        "I think someone's broken in",
        "I can smell gas",
        "help me",
        "HELP!",
        "please help",
        "I feel very dizzy",
        "I'm bleeding",
        "I think I'm having a stroke",
        "I want to die",
        "what's the point, I might as well end it all",
        "the smoke alarm is going off",
        "call an ambulance",
    ],
)
def test_sounds_like_distress_notices_emergencies(text):
    """Test that falls, pain, fear, danger and despair are all noticed."""
    assert sounds_like_distress(text)


@pytest.mark.parametrize(
    "text",
    [
        "two pints of milk and a loaf",
        "a box of firelighters",
        "could you help me order some bread",
        "can you help me with my shopping",
        "a bag of frozen peas please",
        "I'd like some fish fingers",
        "what can I say?",
        "my cat is poorly",
        "place my order",
        "yes please",
        "can I speak to a real person",
    ],
)
def test_sounds_like_distress_leaves_everyday_messages(text):
    """Test that ordinary shopping and requests for help are not emergencies."""
    assert not sounds_like_distress(text)
