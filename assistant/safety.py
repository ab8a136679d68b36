"""Words of emergency or distress, noticed before anything else is said.

These are read by the conversation router itself, before sign-up, before the
assistant and whether or not it is running, so that a resident who has had a
fall or is frightened is answered at once and goes to the top of the queue.
The list errs on the side of caution: a volunteer checking on someone who was
fine costs little.
"""

from __future__ import annotations

import re

DISTRESS = [
    # Falls and being unable to get up.
    r"\b(i'?ve|i have|i|has|had|she'?s|he'?s|just) (had a |taken a )?"
    r"(fall|fallen|fell)\b",
    r"\bhad a fall\b",
    r"\b(can'?t|cannot|couldn'?t|unable to) get (up|off the floor)\b",
    r"\b(on|lying on) the floor\b",
    r"\bcollapsed\b",
    # The body in trouble.
    r"\bchest pains?\b|\bpains? in my chest\b|\btight(ness)? (in|across) my chest\b",
    r"\b(can'?t|cannot|struggling to|hard to|trouble) breath(e|ing)?\b",
    r"\bshort of breath\b|\bbreathless\b",
    r"\bheart attack\b|\bstroke\b|\bblack(ed)? out\b|\bfaint(ed|ing)?\b",
    r"\bbleeding\b|\bblood everywhere\b",
    r"\b(i'?m|i am|feel|feeling) (very |really |so )?(dizzy|ill|unwell|poorly)\b",
    r"\bcan'?t (feel|move) my\b",
    r"\boverdose\b|\btaken too many\b",
    # Fear, danger, and someone at the door.
    r"\b(i'?m|i am|feel|feeling) (very |really |so |a bit )?"
    r"(frightened|scared|afraid|terrified)\b",
    r"\b(someone|somebody|a man|a woman|people|men)('?s| is| are)? "
    r"(at|outside|banging on) (the|my) (front |back )?(door|window)\b",
    r"\b(won'?t|will not) (go|leave|go away)\b",
    r"\b(burglar|intruder|broken in|break in|breaking in)\b",
    r"\bsomeone'?s? in (the|my) house\b",
    r"\b(there'?s a fire|on fire|fire in the|smoke (alarm|everywhere)|"
    r"smell(s|ing)? (of )?(gas|burning)|gas leak)\b",
    r"^\W*(help|help me|please help( me)?|somebody help( me)?)\W*(please)?\W*$",
    r"\bhelp!|\bsomebody help\b|\bsomeone help\b",
    r"\bemergency\b|\bambulance\b|\b999\b",
    # Despair.
    r"\b(want|wanted) to die\b|\bkill myself\b|\bend it all\b|\bend my life\b",
    r"\bno point (in )?(going on|living)\b|\bhurt myself\b|\bsuicid",
]  # fmt: skip
_DISTRESS = re.compile("|".join(f"(?:{p})" for p in DISTRESS), re.IGNORECASE)

SAFETY_MESSAGE = (
    "If you are hurt or in danger, please call 999 now. I've asked a volunteer "
    "to contact you straight away."
)


def sounds_like_distress(text: str) -> bool:
    """Whether a message suggests an emergency, illness, danger or despair."""
    return bool(_DISTRESS.search(text.replace("’", "'")))
