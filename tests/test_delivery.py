"""Tests of delivery slot rules."""

from datetime import datetime, timezone
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from assistant.delivery import SlotRules, describe_slot, describe_time, next_slot

LONDON = ZoneInfo("Europe/London")


def rules(
    days="mon,tue,wed,thu,fri,sat",
    windows="10:00-12:00,14:00-16:00",
    lead=18,
    capacity=20,
) -> SlotRules:
    return SlotRules.from_settings(
        SimpleNamespace(
            delivery_days=days,
            delivery_windows=windows,
            delivery_lead_hours=lead,
            delivery_slot_capacity=capacity,
            timezone="Europe/London",
        )
    )


@pytest.mark.parametrize(
    ("now", "expected_start"),
    [
        pytest.param(
            datetime(2026, 12, 3, 9, 0, tzinfo=LONDON),
            datetime(2026, 12, 4, 10, 0, tzinfo=LONDON),
            id="thursday-morning",
        ),
        pytest.param(
            datetime(2026, 12, 3, 19, 0, tzinfo=LONDON),
            datetime(2026, 12, 4, 14, 0, tzinfo=LONDON),
            id="thursday-evening",
        ),
        pytest.param(
            datetime(2026, 12, 5, 12, 0, tzinfo=LONDON),
            datetime(2026, 12, 7, 10, 0, tzinfo=LONDON),
            id="skips-sunday",
        ),
    ],
)
def test_next_slot_respects_lead_time_and_days(now, expected_start):
    """Test that the next slot is the first allowed window after the lead time."""
    assert next_slot(rules(), now).start == expected_start


def test_next_slot_is_correct_across_clock_change():
    """Test that slots keep their local wall-clock times when the clocks go back."""
    now = datetime(2026, 10, 24, 12, 0, tzinfo=timezone.utc)  # Saturday, BST
    slot = next_slot(rules(days="mon"), now)
    assert slot.start.astimezone(LONDON).hour == 10
    assert slot.start.utcoffset().total_seconds() == 0  # GMT after the change


def test_next_slot_skips_full_windows(db):
    """Test that a window at capacity is passed over."""
    now = datetime(2026, 12, 3, 9, 0, tzinfo=LONDON)
    first = next_slot(rules(capacity=1), now, db)
    db.execute("INSERT INTO residents (id, created_at) VALUES ('r1', 'now')")
    db.execute(
        "INSERT INTO orders (resident_id, status, placed_at, delivery_start, "
        "delivery_end, total_pence, updated_at) VALUES ('r1', 'placed', 'now', ?, "
        "?, 100, 'now')",
        [first.start.isoformat(), first.end.isoformat()],
    )
    assert next_slot(rules(capacity=1), now, db).start > first.start


def test_describe_slot_says_tomorrow_and_times_plainly():
    """Test the spoken form of a slot."""
    now = datetime(2026, 12, 3, 9, 0, tzinfo=LONDON)
    slot = next_slot(rules(windows="10:00-12:00"), now)
    assert describe_slot(slot, now) == (
        "tomorrow, Friday 4 December, between 10am and 12 noon"
    )
    assert describe_time(datetime(2026, 1, 1, 14, 30)) == "2:30pm"
