"""Free times to offer a resident for a call, from what they asked for."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlite_utils

from assistant.availability import SLOT_MINUTES, SLOT_STEP_MINUTES, Slot, free_slots
from assistant.when import LONDON, WhenRequest, Window, describe

# A volunteer needs time to notice a new call; a resident deciding takes a while
# (`assistant.bookings.NOTICE_TO_BOOK`).
NOTICE_TO_PROPOSE = timedelta(hours=1)
# How far either side of an asked-for time alternatives are looked for.
SEARCH_AROUND = timedelta(days=3)
PROPOSALS = 3
# Proposals for a window are kept this far apart where the window allows, so
# "Thursday afternoon" offers 12, 1 and 2 rather than 12, 12:30 and 1.
SPREAD = timedelta(hours=1)


@dataclass(frozen=True)
class Proposal:
    """A free time to offer a resident."""

    start: datetime
    end: datetime
    volunteer_ids: tuple[int, ...]
    matches_request: bool
    """The time asked for exactly, or inside the windows asked for."""


def _distance(slot: Slot, windows: Iterable[Window]) -> timedelta:
    """How far a slot lies outside the nearest window (nothing if inside)."""
    gaps = []
    for window in windows:
        if window.contains(slot.start, slot.end):
            return timedelta(0)
        gaps.append(max(window.start - slot.start, slot.end - window.end))
    return min(gaps, default=timedelta.max)


def _nearest(slots: list[Slot], target: datetime, count: int) -> list[Slot]:
    """The `count` slots nearest `target`, with one from each side if there
    is one, so a resident hears an earlier and a later choice."""
    ranked = sorted(slots, key=lambda s: (abs(s.start - target), s.start))
    chosen = ranked[:count]
    for side in (lambda s: s.start < target, lambda s: s.start > target):
        if count > 1 and chosen and not any(side(s) for s in chosen):
            other = next((s for s in ranked if side(s)), None)
            if other is not None:
                chosen[-1] = other
    return sorted(chosen, key=lambda s: s.start)


def _spread(slots: list[Slot], count: int) -> list[Slot]:
    """The earliest slots, kept `SPREAD` apart where there are enough."""
    chosen: list[Slot] = []
    for slot in slots:
        if len(chosen) == count:
            break
        if all(abs(slot.start - c.start) >= SPREAD for c in chosen):
            chosen.append(slot)
    for slot in slots:
        if len(chosen) == count:
            break
        if slot not in chosen:
            chosen.append(slot)
    return sorted(chosen, key=lambda s: s.start)


def propose_times(
    db: sqlite_utils.Database,
    request: WhenRequest,
    now: datetime,
    *,
    resident_id: str | None = None,
    minutes: int = SLOT_MINUTES,
    count: int = PROPOSALS,
    notice: timedelta = NOTICE_TO_PROPOSE,
    step_minutes: int = SLOT_STEP_MINUTES,
    tz: ZoneInfo = LONDON,
) -> list[Proposal]:
    """Free times to offer for a request, earliest first.

    If an exact time was asked for and is free, only that one comes back.
    Otherwise: free times inside what was asked for, or, if there are none,
    the nearest free times before and after it. Never a time the resident
    ruled out, nor one overlapping a call they already have.

    Returns:
        Up to `count` proposals; none if the request said nothing of when or
        nobody is free for days around it.
    """
    not_before = now + notice

    def search(start: datetime, end: datetime) -> list[Slot]:
        slots = free_slots(
            db,
            max(start, not_before),
            end,
            minutes=minutes,
            step_minutes=step_minutes,
            resident_id=resident_id,
            tz=tz,
        )
        return [
            slot
            for slot in slots
            if not any(w.overlaps(slot.start, slot.end) for w in request.excluded)
        ]

    def proposals(slots: list[Slot]) -> list[Proposal]:
        return [
            Proposal(
                slot.start,
                slot.end,
                slot.volunteer_ids,
                slot.start == request.preferred
                if request.preferred
                else request.allows(slot.start, slot.end),
            )
            for slot in slots
        ]

    if request.preferred is not None:
        target = request.preferred
        slots = search(target - SEARCH_AROUND, target + SEARCH_AROUND)
        exact = [slot for slot in slots if slot.start == target]
        return proposals(exact or _nearest(slots, target, count))
    if not request.windows:
        return []
    first, last = request.windows[0], request.windows[-1]
    inside = [
        slot
        for slot in search(first.start, last.end)
        if request.allows(slot.start, slot.end)
    ]
    if inside:
        return proposals(_spread(inside, count))
    around = search(first.start - SEARCH_AROUND, last.end + SEARCH_AROUND)
    ranked = sorted(around, key=lambda s: (_distance(s, request.windows), s.start))
    return proposals(_nearest(ranked[: count * 4], first.start, count))


def describe_proposals(
    proposals: list[Proposal], now: datetime, tz: ZoneInfo = LONDON
) -> str:
    """ "today at 4pm, tomorrow at 2pm or Wednesday 9 December at 10am"."""
    said = [describe(p.start, now, tz) for p in proposals]
    if len(said) < 2:
        return "".join(said)
    return ", ".join(said[:-1]) + " or " + said[-1]
