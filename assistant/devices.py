"""Tablets paired to residents: one-time pairing codes and long-lived device tokens.

A coordinator asks for a pairing code for a resident (console or CLI). The code
is six digits, works once, and expires after a quarter of an hour; a newer code
for the same resident replaces an older one. Typed into a tablet, it is traded
for a device token that the tablet keeps for as long as it stays paired. Only
hashes of codes and tokens are stored. Unpairing a device (a lost tablet)
makes its token worthless at once.

Six digits are quick to type but could be guessed, so wrong codes are counted:
a few from one address, or a few dozen from everywhere, within a quarter of an
hour stop pairing until the quarter has passed.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import sqlite_utils

from assistant.errors import HelpingHandsError
from assistant.store import transaction

logger = logging.getLogger(__name__)

CODE_DIGITS = 6
CODE_LIFETIME = timedelta(minutes=15)
FAILURE_WINDOW = timedelta(minutes=15)
MOST_FAILURES_FROM_ONE_PLACE = 5
MOST_FAILURES_EVERYWHERE = 30
LAST_SEEN_EVERY = timedelta(minutes=5)
MOST_LABEL_CHARACTERS = 60


class PairingRefused(HelpingHandsError):
    """A pairing code was wrong, used, expired, or tried too often."""

    code = "pairing-refused"


@dataclass(frozen=True)
class PairingCode:
    """A code to show the coordinator, once; only its hash is kept."""

    code: str
    resident_id: str
    expires_at: datetime

    @property
    def spaced(self) -> str:
        """ "123 456": easier to read out and type."""
        half = len(self.code) // 2
        return f"{self.code[:half]} {self.code[half:]}"


@dataclass(frozen=True)
class Device:
    """A paired tablet."""

    id: int
    resident_id: str
    label: str
    paired_at: datetime
    last_seen_at: datetime | None
    unpaired_at: datetime | None

    @property
    def is_paired(self) -> bool:
        return self.unpaired_at is None


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(timezone.utc)


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _device(row: dict) -> Device:
    return Device(
        row["id"],
        row["resident_id"],
        row["label"] or "",
        datetime.fromisoformat(row["paired_at"]),
        _moment(row["last_seen_at"]),
        _moment(row["unpaired_at"]),
    )


def clean_code(text: str) -> str:
    """The digits of a code as typed: "123 456" and "123-456" are "123456"."""
    return "".join(ch for ch in str(text) if ch.isdigit())[: CODE_DIGITS * 2]


def clean_label(text: str | None) -> str:
    return " ".join(str(text or "").split())[:MOST_LABEL_CHARACTERS]


def new_pairing_code(
    db: sqlite_utils.Database,
    resident_id: str,
    volunteer_id: int | None = None,
    label: str | None = None,
    now: datetime | None = None,
) -> PairingCode:
    """A fresh one-time code for pairing a tablet to `resident_id`.

    Any earlier code for the resident that is still unused stops working.
    """
    moment = _now(now)
    expires = moment + CODE_LIFETIME
    with transaction(db):
        db.execute(
            "UPDATE tablet_pairing_codes SET used_at = ? "
            "WHERE resident_id = ? AND used_at IS NULL",
            [_stamp(moment), resident_id],
        )
        while True:
            code = "".join(secrets.choice("0123456789") for _ in range(CODE_DIGITS))
            clash = db.execute(
                "SELECT 1 FROM tablet_pairing_codes WHERE code_hash = ? "
                "AND used_at IS NULL AND expires_at > ?",
                [_digest(code), _stamp(moment)],
            ).fetchone()
            if not clash:
                break
        db["tablet_pairing_codes"].insert(
            {
                "code_hash": _digest(code),
                "resident_id": resident_id,
                "created_by": volunteer_id,
                "label": clean_label(label),
                "created_at": _stamp(moment),
                "expires_at": _stamp(expires),
            }
        )
    logger.info("pairing code made for resident %s", resident_id)
    return PairingCode(code, resident_id, expires)


def _failures_since(db: sqlite_utils.Database, since: datetime, key: str | None) -> int:
    if key is None:
        query, values = "at > ?", [_stamp(since)]
    else:
        query, values = "key = ? AND at > ?", [key, _stamp(since)]
    return db.execute(
        f"SELECT count(*) FROM tablet_pairing_failures WHERE {query}", values
    ).fetchone()[0]


def pair_with_code(
    db: sqlite_utils.Database,
    code: str,
    client_key: str,
    now: datetime | None = None,
) -> tuple[Device, str]:
    """Trade a pairing code for a new device and its token.

    Args:
        code: as typed; spaces and dashes are ignored.
        client_key: where the attempt came from (the client's address), for
            counting wrong codes.

    Returns:
        The device, and its token (shown once, to the tablet).

    Raises:
        PairingRefused: code `pairing-rate-limited` after too many wrong
            codes, else `pairing-code-wrong` for a wrong, used or expired code.
    """
    moment = _now(now)
    since = moment - FAILURE_WINDOW
    digits = clean_code(code)
    refusal: PairingRefused | None = None
    with transaction(db):
        if (
            _failures_since(db, since, client_key) >= MOST_FAILURES_FROM_ONE_PLACE
            or _failures_since(db, since, None) >= MOST_FAILURES_EVERYWHERE
        ):
            refusal = PairingRefused("too many wrong codes", "pairing-rate-limited")
        else:
            row = db.execute(
                "SELECT id, resident_id, label FROM tablet_pairing_codes "
                "WHERE code_hash = ? AND used_at IS NULL AND expires_at > ? "
                "ORDER BY id DESC LIMIT 1",
                [_digest(digits), _stamp(moment)],
            ).fetchone()
            if len(digits) != CODE_DIGITS or row is None:
                # Counted in the same transaction, and kept: the refusal is
                # raised only once the transaction has been committed.
                db["tablet_pairing_failures"].insert(
                    {"key": client_key, "at": _stamp(moment)}
                )
                refusal = PairingRefused(
                    "wrong, used or expired code", "pairing-code-wrong"
                )
            else:
                code_id, resident_id, label = row
                db.execute(
                    "UPDATE tablet_pairing_codes SET used_at = ? WHERE id = ?",
                    [_stamp(moment), code_id],
                )
                device, token = _new_device(db, resident_id, label, moment)
    if refusal is not None:
        logger.warning("tablet pairing refused (%s)", refusal.code)
        raise refusal
    logger.info("tablet %s paired to resident %s", device.id, resident_id)
    return device, token


def pair_directly(
    db: sqlite_utils.Database,
    resident_id: str,
    label: str = "",
    now: datetime | None = None,
) -> tuple[Device, str]:
    """A device paired without a code: for the demo resident on a local trial."""
    with transaction(db):
        device, token = _new_device(db, resident_id, clean_label(label), _now(now))
    logger.info("tablet %s paired to resident %s directly", device.id, resident_id)
    return device, token


def _new_device(
    db: sqlite_utils.Database, resident_id: str, label: str, moment: datetime
) -> tuple[Device, str]:
    token = secrets.token_urlsafe(32)
    device_id = (
        db["tablet_devices"]
        .insert(
            {
                "resident_id": resident_id,
                "token_hash": _digest(token),
                "label": label,
                "paired_at": _stamp(moment),
                "last_seen_at": _stamp(moment),
            }
        )
        .last_pk
    )
    return get_device(db, device_id), token


def get_device(db: sqlite_utils.Database, device_id: int) -> Device | None:
    rows = list(db.query("SELECT * FROM tablet_devices WHERE id = ?", [device_id]))
    return _device(rows[0]) if rows else None


def device_for_token(
    db: sqlite_utils.Database, token: str | None, now: datetime | None = None
) -> Device | None:
    """The paired device holding `token`; None for an unknown or unpaired one,
    or one whose resident's data has been erased."""
    if not token or len(token) > 200:
        return None
    rows = list(
        db.query(
            "SELECT d.* FROM tablet_devices d JOIN residents r "
            "ON r.id = d.resident_id WHERE d.token_hash = ? "
            "AND d.unpaired_at IS NULL "
            "AND coalesce(r.registration_step, '') != 'erased'",
            [_digest(token)],
        )
    )
    if not rows:
        return None
    device = _device(rows[0])
    moment = _now(now)
    if device.last_seen_at is None or moment - device.last_seen_at > LAST_SEEN_EVERY:
        db.execute(
            "UPDATE tablet_devices SET last_seen_at = ? WHERE id = ?",
            [_stamp(moment), device.id],
        )
    return device


def unpair_device(
    db: sqlite_utils.Database, device_id: int, now: datetime | None = None
) -> bool:
    """Unpair one tablet; False if it was not paired."""
    changed = db.execute(
        "UPDATE tablet_devices SET unpaired_at = ? "
        "WHERE id = ? AND unpaired_at IS NULL",
        [_stamp(_now(now)), device_id],
    ).rowcount
    if changed:
        logger.info("tablet %s unpaired", device_id)
    return bool(changed)


def unpair_resident(
    db: sqlite_utils.Database, resident_id: str, now: datetime | None = None
) -> int:
    """Unpair every tablet of a resident and cancel any unused code.

    Returns:
        How many tablets were unpaired.
    """
    stamp = _stamp(_now(now))
    with transaction(db):
        db.execute(
            "UPDATE tablet_pairing_codes SET used_at = ? "
            "WHERE resident_id = ? AND used_at IS NULL",
            [stamp, resident_id],
        )
        changed = db.execute(
            "UPDATE tablet_devices SET unpaired_at = ? "
            "WHERE resident_id = ? AND unpaired_at IS NULL",
            [stamp, resident_id],
        ).rowcount
    logger.info("%s tablet(s) of resident %s unpaired", changed, resident_id)
    return changed


def paired_devices(
    db: sqlite_utils.Database, resident_id: str | None = None
) -> list[tuple[Device, dict]]:
    """Every paired tablet (or one resident's), newest first, with its
    resident's id, name and phone."""
    where = "d.unpaired_at IS NULL"
    values: list = []
    if resident_id is not None:
        where += " AND d.resident_id = ?"
        values.append(resident_id)
    rows = db.query(
        "SELECT d.*, r.name AS resident_name, r.phone AS resident_phone "
        f"FROM tablet_devices d JOIN residents r ON r.id = d.resident_id "
        f"WHERE {where} ORDER BY d.id DESC",
        values,
    )
    return [
        (
            _device(row),
            {
                "id": row["resident_id"],
                "name": row["resident_name"],
                "phone": row["resident_phone"],
            },
        )
        for row in rows
    ]
