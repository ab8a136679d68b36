"""Delivery slots: the next window an order can come in, by configurable rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlite_utils

DAY_NAMES = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
SEARCH_DAYS = 21


@dataclass(frozen=True)
class SlotRules:
    """Which days and windows deliveries run, and how much notice they need."""

    days: frozenset[int]
    windows: tuple[tuple[time, time], ...]
    lead_hours: int
    capacity: int
    timezone: ZoneInfo

    @classmethod
    def from_settings(cls, settings) -> SlotRules:
        days = frozenset(
            DAY_NAMES.index(d.strip()[:3].lower())
            for d in settings.delivery_days.split(",")
            if d.strip()
        )
        windows = []
        for window in settings.delivery_windows.split(","):
            start, end = window.strip().split("-")
            windows.append((time.fromisoformat(start), time.fromisoformat(end)))
        return cls(
            days,
            tuple(sorted(windows)),
            settings.delivery_lead_hours,
            settings.delivery_slot_capacity,
            ZoneInfo(settings.timezone),
        )


@dataclass(frozen=True)
class Slot:
    start: datetime
    end: datetime


def next_slot(
    rules: SlotRules, now: datetime, db: sqlite_utils.Database | None = None
) -> Slot:
    """The first window far enough ahead that still has room."""
    earliest = now.astimezone(rules.timezone) + timedelta(hours=rules.lead_hours)
    day: date = earliest.date()
    for _ in range(SEARCH_DAYS):
        if day.weekday() in rules.days:
            for start_time, end_time in rules.windows:
                start = datetime.combine(day, start_time, rules.timezone)
                end = datetime.combine(day, end_time, rules.timezone)
                if start >= earliest and has_room(db, start, rules.capacity):
                    return Slot(start, end)
        day += timedelta(days=1)
    raise ValueError("no delivery slot in the next three weeks")


def has_room(db: sqlite_utils.Database | None, start: datetime, capacity: int) -> bool:
    if db is None:
        return True
    booked = db.execute(
        "SELECT count(*) FROM orders WHERE delivery_start = ? AND status != "
        "'cancelled'",
        [start.isoformat()],
    ).fetchone()[0]
    return booked < capacity


def describe_time(moment: datetime) -> str:
    """ "10am", "2:30pm", "12 noon"."""
    if moment.hour == 12 and moment.minute == 0:
        return "12 noon"
    hour = moment.hour % 12 or 12
    suffix = "am" if moment.hour < 12 else "pm"
    minutes = f":{moment.minute:02d}" if moment.minute else ""
    return f"{hour}{minutes}{suffix}"


def describe_slot(slot: Slot, now: datetime) -> str:
    """ "tomorrow, Thursday 5 December, between 10am and 12 noon"."""
    local_now = now.astimezone(slot.start.tzinfo)
    day = slot.start.strftime("%A ") + str(slot.start.day) + slot.start.strftime(" %B")
    if slot.start.date() == local_now.date():
        day = "today, " + day
    elif slot.start.date() == local_now.date() + timedelta(days=1):
        day = "tomorrow, " + day
    else:
        day = "on " + day
    return f"{day}, between {describe_time(slot.start)} and {describe_time(slot.end)}"
