"""Phone calls: who rang, how the call is going, and what changed by its end."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import sqlite_utils

from assistant.basket import basket_lines, basket_total
from assistant.orders import latest_order
from assistant.store import transaction, utc_now
from assistant.wording import describe_product, money, plural

SILENCES_BEFORE_GOODBYE = 3
ENDED = {"completed", "busy", "no-answer", "failed", "canceled"}


@dataclass(frozen=True)
class Call:
    """One phone call, as far as it has gone."""

    call_sid: str
    resident_id: str | None
    from_number: str | None
    mode: str
    status: str
    turns: int
    silences: int
    last_reply: str | None
    is_first_call: bool = False


def basket_fingerprint(db: sqlite_utils.Database, resident_id: str) -> str:
    text = ";".join(
        f"{line.product.sku}={line.quantity}" for line in basket_lines(db, resident_id)
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def start_call(
    db: sqlite_utils.Database,
    call_sid: str,
    resident_id: str,
    from_number: str,
    mode: str,
) -> Call:
    """Record a call as it starts, with the basket and orders as they were.

    Twilio may send the same call's first webhook twice; the call is kept once.
    """
    with transaction(db):
        earlier = db.execute(
            "SELECT count(*) FROM calls WHERE resident_id = ? AND call_sid != ?",
            [resident_id, call_sid],
        ).fetchone()[0]
        if not db.execute(
            "SELECT 1 FROM calls WHERE call_sid = ?", [call_sid]
        ).fetchone():
            order = latest_order(db, resident_id)
            db["calls"].insert(
                {
                    "call_sid": call_sid,
                    "resident_id": resident_id,
                    "from_number": from_number,
                    "mode": mode,
                    "status": "in-progress",
                    "started_at": utc_now(),
                    "basket_at_start": basket_fingerprint(db, resident_id),
                    "last_order_at_start": order.id if order else 0,
                }
            )
    call = get_call(db, call_sid)
    return Call(**{**call.__dict__, "is_first_call": earlier == 0})


def get_call(db: sqlite_utils.Database, call_sid: str) -> Call | None:
    row = db.execute(
        "SELECT call_sid, resident_id, from_number, mode, status, turns, silences, "
        "last_reply FROM calls WHERE call_sid = ?",
        [call_sid],
    ).fetchone()
    return Call(*row) if row else None


def record_turn(
    db: sqlite_utils.Database, call_sid: str, reply: str, silent: bool = False
) -> int:
    """Count a turn and remember what was said; return the silences in a row."""
    if silent:
        db.execute(
            "UPDATE calls SET silences = silences + 1, turns = turns + 1 "
            "WHERE call_sid = ?",
            [call_sid],
        )
    else:
        db.execute(
            "UPDATE calls SET silences = 0, turns = turns + 1, last_reply = ? "
            "WHERE call_sid = ?",
            [reply, call_sid],
        )
    row = db.execute(
        "SELECT silences FROM calls WHERE call_sid = ?", [call_sid]
    ).fetchone()
    return row[0] if row else 0


def end_call(db: sqlite_utils.Database, call_sid: str, status: str) -> bool:
    """Mark a call ended; False if it had ended already."""
    cursor = db.execute(
        "UPDATE calls SET status = ?, ended_at = ? WHERE call_sid = ? "
        "AND ended_at IS NULL",
        [status, utc_now(), call_sid],
    )
    return cursor.rowcount == 1


def call_summary(db: sqlite_utils.Database, call_sid: str) -> str | None:
    """An SMS summary of what the call changed, or None if it changed nothing.

    Only one summary is ever made for a call.
    """
    with transaction(db):
        row = db.execute(
            "SELECT resident_id, basket_at_start, last_order_at_start, summary_sent "
            "FROM calls WHERE call_sid = ?",
            [call_sid],
        ).fetchone()
        if row is None or row[3] or row[0] is None:
            return None
        resident_id, basket_before, order_before = row[0], row[1], row[2] or 0
        order = latest_order(db, resident_id)
        new_order = order if order and order.id > order_before else None
        basket_changed = basket_fingerprint(db, resident_id) != basket_before
        if not new_order and not basket_changed:
            return None
        db.execute("UPDATE calls SET summary_sent = 1 WHERE call_sid = ?", [call_sid])
    parts = ["Helping Hands, after your call:"]
    if new_order:
        parts.append(
            f"your order number {new_order.id} is placed, "
            f"{plural(new_order.item_count, 'item')} for "
            f"{money(new_order.total_pence)}."
        )
    lines = basket_lines(db, resident_id)
    if lines:
        described = "; ".join(
            describe_product(line.product, line.quantity) for line in lines
        )
        parts.append(
            f"Your basket has {described}. That comes to "
            f"{money(basket_total(lines))}. Text or ring us to place the order."
        )
    elif basket_changed and not new_order:
        parts.append("your basket is empty.")
    return " ".join(parts)
