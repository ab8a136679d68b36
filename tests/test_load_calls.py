"""Ten phone calls at once over media streams: every caller's order is taken
once, none is lost or doubled, and every call is recorded once.

Each call is driven exactly as Twilio drives it (signed voice webhook, then the
WebSocket), with real speech from espeak-ng recognised by the real offline
engine. The frames are sent as fast as the gateway takes them rather than in
real time, so that the ten calls overlap as much as they can; the phone
benchmark (bench/phone_calls.py) sends them in real time and measures speed.
"""

import asyncio

import pytest

from tests.test_phone_media_stream import (
    SILENCE,
    TwilioStream,
    beans_in_basket,
    phone_audio,
    registered,
)
from voice.speech import Synthesiser, VoiceSettings

pytestmark = [pytest.mark.stack, pytest.mark.chaos]

CALLS = 10


@pytest.fixture(scope="module")
def voice(tmp_path_factory) -> Synthesiser:
    """Our own text-to-speech, to play the callers' part."""
    return Synthesiser(tmp_path_factory.mktemp("callers-voice"), VoiceSettings())


def test_ten_simultaneous_calls_each_add_their_order_once(stack, gateway, voice):
    """Test that ten callers ordering at the same moment each get two tins of
    beans in their own basket, exactly once, and a spoken answer."""
    phones = [registered(stack, usual="beans-baked-400g") for _ in range(CALLS)]
    calls = [TwilioStream(gateway, phone) for phone in phones]
    for call in calls:
        call.ring()
    hello = SILENCE[:4000] + phone_audio(voice, "hello there") + SILENCE
    order = phone_audio(voice, "add two tins of baked beans") + SILENCE
    answers: dict[str, int] = {}

    async def one_call(call: TwilioStream) -> None:
        await call.connect()
        await call.listen(timeout=120)
        await call.speak(hello)
        await call.listen(timeout=120)
        await call.speak(order)
        answers[call.call_sid] = len(await call.listen(timeout=120))
        await call.hang_up()

    async def all_calls() -> None:
        await asyncio.gather(*(one_call(call) for call in calls))

    asyncio.run(all_calls())

    assert [beans_in_basket(stack, phone) for phone in phones] == [2] * CALLS
    assert all(length > 8000 for length in answers.values()), answers
    db = stack.db()
    recorded = db.execute(
        "SELECT call_sid, count(*) FROM calls WHERE call_sid IN ({}) "
        "GROUP BY call_sid".format(",".join("?" * CALLS)),
        [call.call_sid for call in calls],
    ).fetchall()
    db.close()
    assert sorted(recorded) == sorted((call.call_sid, 1) for call in calls)
