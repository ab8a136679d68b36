"""Volunteers and coordinators: accounts, passwords, console sessions and duty."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import sqlite_utils

from assistant.errors import HelpingHandsError
from assistant.store import transaction, utc_now

ROLES = ("volunteer", "coordinator")
# scrypt at n=2**14, r=8: about 16 MB and a few tens of milliseconds a guess.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
SESSION_HOURS = 12
MOST_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 10


class AccountError(HelpingHandsError):
    """A volunteer account could not be made or changed as asked."""

    code = "account-invalid"


@dataclass(frozen=True)
class Volunteer:
    """Someone who signs in to the console."""

    id: int
    username: str
    display_name: str
    phone: str | None
    role: str
    on_duty: bool
    active: bool

    @property
    def is_coordinator(self) -> bool:
        return self.role == "coordinator"


@dataclass(frozen=True)
class Session:
    """A signed-in console session."""

    volunteer: Volunteer
    csrf_token: str


def hash_password(password: str) -> str:
    """A salted scrypt hash of `password`, with its parameters, for storing."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32
    )
    encoded = [base64.b64encode(part).decode() for part in (salt, digest)]
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${encoded[0]}${encoded[1]}"


def password_matches(password: str, stored: str) -> bool:
    """Whether `password` is the one `stored` was made from, in constant time."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def _from_row(row: dict) -> Volunteer:
    return Volunteer(
        row["id"],
        row["username"],
        row["display_name"],
        row["phone"],
        row["role"],
        bool(row["on_duty"]),
        bool(row["active"]),
    )


def add_volunteer(
    db: sqlite_utils.Database,
    username: str,
    display_name: str,
    password: str,
    role: str = "volunteer",
    phone: str | None = None,
) -> Volunteer:
    """Make an account.

    Raises:
        AccountError: a bad role, a short password, or a username in use.
    """
    username = username.strip().lower()
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    if not username or not display_name.strip():
        raise AccountError("a username and a name are both needed")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            f"a password needs at least {MIN_PASSWORD_LENGTH} characters",
            "account-weak-password",
        )
    with transaction(db):
        if db.execute(
            "SELECT 1 FROM volunteers WHERE username = ?", [username]
        ).fetchone():
            raise AccountError(f"{username!r} is taken", "account-taken")
        volunteer_id = (
            db["volunteers"]
            .insert(
                {
                    "username": username,
                    "display_name": display_name.strip(),
                    "phone": phone or None,
                    "role": role,
                    "password_hash": hash_password(password),
                    "on_duty": 0,
                    "active": 1,
                    "created_at": utc_now(),
                }
            )
            .last_pk
        )
    return get_volunteer(db, volunteer_id)


def get_volunteer(db: sqlite_utils.Database, volunteer_id: int) -> Volunteer | None:
    rows = list(db.query("SELECT * FROM volunteers WHERE id = ?", [volunteer_id]))
    return _from_row(rows[0]) if rows else None


def all_volunteers(db: sqlite_utils.Database) -> list[Volunteer]:
    return [
        _from_row(row)
        for row in db.query(
            "SELECT * FROM volunteers WHERE active = 1 ORDER BY display_name"
        )
    ]


def on_duty(db: sqlite_utils.Database) -> list[Volunteer]:
    return [v for v in all_volunteers(db) if v.on_duty]


def set_on_duty(db: sqlite_utils.Database, volunteer_id: int, duty: bool) -> None:
    db.execute(
        "UPDATE volunteers SET on_duty = ? WHERE id = ?", [int(duty), volunteer_id]
    )


def remove_volunteer(db: sqlite_utils.Database, volunteer_id: int) -> None:
    """Close an account: it can no longer sign in, and its sessions end."""
    with transaction(db):
        db.execute(
            "UPDATE volunteers SET active = 0, on_duty = 0 WHERE id = ?",
            [volunteer_id],
        )
        db.execute(
            "DELETE FROM console_sessions WHERE volunteer_id = ?", [volunteer_id]
        )


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def failures_recently(db: sqlite_utils.Database, keys: list[str], now: datetime) -> int:
    """The most recent failures for any one of `keys` (a name, a client)."""
    since = (now - FAILURE_WINDOW).isoformat(timespec="seconds")
    return max(
        db.execute(
            "SELECT count(*) FROM sign_in_failures WHERE key = ? AND at >= ?",
            [key, since],
        ).fetchone()[0]
        for key in keys
    )


class SignInRefused(HelpingHandsError):
    """Wrong name or password, or too many tries."""

    code = "sign-in-refused"


def sign_in(
    db: sqlite_utils.Database,
    username: str,
    password: str,
    client: str,
    now: datetime | None = None,
) -> str:
    """Check a name and password and open a session.

    Returns:
        The session token for the cookie.

    Raises:
        SignInRefused: `sign-in-refused` for a wrong name or password, and
            `sign-in-rate-limited` after too many failures for this name or
            from this client in the last quarter of an hour.
    """
    now = now or datetime.now(timezone.utc)
    username = username.strip().lower()
    keys = [f"user:{username}", f"client:{client}"]
    if failures_recently(db, keys, now) >= MOST_FAILURES:
        raise SignInRefused("too many attempts", "sign-in-rate-limited")
    rows = list(
        db.query(
            "SELECT * FROM volunteers WHERE username = ? AND active = 1", [username]
        )
    )
    stored = rows[0]["password_hash"] if rows else hash_password(secrets.token_hex(8))
    if not rows or not password_matches(password, stored):
        db["sign_in_failures"].insert_all(
            {"key": key, "at": now.isoformat(timespec="seconds")} for key in keys
        )
        raise SignInRefused("wrong name or password")
    token = secrets.token_urlsafe(32)
    db["console_sessions"].insert(
        {
            "token_hash": _token_hash(token),
            "volunteer_id": rows[0]["id"],
            "csrf_token": secrets.token_urlsafe(24),
            "created_at": now.isoformat(timespec="seconds"),
            "expires_at": (now + timedelta(hours=SESSION_HOURS)).isoformat(
                timespec="seconds"
            ),
        }
    )
    return token


def session_for(
    db: sqlite_utils.Database, token: str | None, now: datetime | None = None
) -> Session | None:
    """The signed-in session for a cookie's token, if it is live."""
    if not token:
        return None
    now = now or datetime.now(timezone.utc)
    rows = list(
        db.query(
            "SELECT s.csrf_token, v.* FROM console_sessions s "
            "JOIN volunteers v ON v.id = s.volunteer_id "
            "WHERE s.token_hash = ? AND s.expires_at > ? AND v.active = 1",
            [_token_hash(token), now.isoformat(timespec="seconds")],
        )
    )
    if not rows:
        return None
    return Session(_from_row(rows[0]), rows[0]["csrf_token"])


def sign_out(db: sqlite_utils.Database, token: str | None) -> None:
    if token:
        db.execute(
            "DELETE FROM console_sessions WHERE token_hash = ?", [_token_hash(token)]
        )


def seed_demo_volunteers(db: sqlite_utils.Database) -> list[tuple[str, str, str]]:
    """Demo accounts for a new store, each with a fresh random password.

    Returns:
        (username, role, password) for each account made; nothing if the
        store already has volunteers.
    """
    if db.execute("SELECT count(*) FROM volunteers").fetchone()[0]:
        return []
    made = []
    for username, name, role in (
        ("coordinator", "Demo Coordinator", "coordinator"),
        ("volunteer", "Demo Volunteer", "volunteer"),
    ):
        password = secrets.token_urlsafe(9)
        volunteer = add_volunteer(db, username, name, password, role)
        set_on_duty(db, volunteer.id, True)
        made.append((username, role, password))
    return made
