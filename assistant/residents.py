"""Residents: who they are, how they are reached, and signing up a new number."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

import sqlite_utils

from assistant.store import transaction, utc_now

E164 = re.compile(r"^\+[1-9]\d{6,14}$")


@dataclass(frozen=True)
class Resident:
    id: str
    phone: str | None
    name: str | None
    address: str | None
    delivery_notes: str | None
    registration_step: str | None
    held_message: str | None
    sms_opted_out: bool

    @property
    def is_registered(self) -> bool:
        return self.registration_step is None


def masked(phone: str | None) -> str:
    """A phone number shown only by its last four digits, for logs."""
    if not phone:
        return "unknown"
    return "…" + phone[-4:]


def normalise_phone(text: str) -> str | None:
    """An E.164 number from what a person or Twilio wrote, UK numbers assumed."""
    digits = re.sub(r"[^\d+]", "", text)
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    elif digits.startswith("0"):
        digits = "+44" + digits[1:]
    return digits if E164.match(digits) else None


def _from_row(row: dict) -> Resident:
    return Resident(
        row["id"],
        row["phone"],
        row["name"],
        row["address"],
        row["delivery_notes"],
        row["registration_step"],
        row["held_message"],
        bool(row["sms_opted_out"]),
    )


def get_resident(db: sqlite_utils.Database, resident_id: str) -> Resident | None:
    rows = list(db.query("SELECT * FROM residents WHERE id = ?", [resident_id]))
    return _from_row(rows[0]) if rows else None


def find_by_phone(db: sqlite_utils.Database, phone: str) -> Resident | None:
    rows = list(db.query("SELECT * FROM residents WHERE phone = ?", [phone]))
    return _from_row(rows[0]) if rows else None


def resident_for_phone(db: sqlite_utils.Database, phone: str) -> Resident:
    """The resident with this number, made new (and not yet signed up) if unknown."""
    with transaction(db):
        found = find_by_phone(db, phone)
        if found is not None:
            return found
        resident_id = "res_" + secrets.token_hex(8)
        db["residents"].insert(
            {
                "id": resident_id,
                "phone": phone,
                "registration_step": "name",
                "sms_opted_out": 0,
                "created_at": utc_now(),
            }
        )
    return get_resident(db, resident_id)


def add_resident(
    db: sqlite_utils.Database,
    phone: str,
    name: str,
    address: str,
    delivery_notes: str | None = None,
) -> Resident:
    """Register a resident fully, as the demo seed and coordinators do."""
    resident_id = "res_" + secrets.token_hex(8)
    db["residents"].insert(
        {
            "id": resident_id,
            "phone": phone,
            "name": name,
            "address": address,
            "delivery_notes": delivery_notes,
            "registration_step": None,
            "sms_opted_out": 0,
            "created_at": utc_now(),
        }
    )
    return get_resident(db, resident_id)


def update_resident(db: sqlite_utils.Database, resident_id: str, **values) -> None:
    db["residents"].update(resident_id, values)


NAME_OPENINGS = re.compile(
    r"^(hello|hi|hiya|yes|well|oh)?[\s,.!]*(my name is|my name's|name's|name is|"
    r"i am|i'm|im|it's|its|this is|call me)?\s*",
    re.IGNORECASE,
)


def clean_name(text: str) -> str | None:
    """A name from "It's Mrs Joan Smith, love": the words a person would sign with."""
    name = NAME_OPENINGS.sub("", text.strip(), count=1)
    name = re.split(
        r"[,.!?]|\b(?:thank|thanks|please|love|dear)\b", name, flags=re.IGNORECASE
    )[0]
    name = re.sub(r"[^\w' -]", "", name).strip()
    if not name or len(name) > 80 or not re.search(r"[A-Za-z]", name):
        return None
    return " ".join(w if w[:1].isupper() else w.capitalize() for w in name.split())


def clean_address(text: str) -> str | None:
    """An address as written, tidied; None if it cannot be one."""
    address = " ".join(text.split()).strip(" .")
    if len(address) < 5 or len(address) > 300 or not re.search(r"[A-Za-z]", address):
        return None
    return address
