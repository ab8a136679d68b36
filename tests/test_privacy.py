"""A resident's data exported and erased on request, and old transcripts deleted."""

import json
import os
import sqlite3
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from datetime import datetime, timedelta, timezone

import pytest

from assistant.config import PROJECT_ROOT
from assistant.messages import record_inbound
from assistant.privacy import apply_retention, erase_resident
from assistant.residents import add_resident, find_by_phone
from assistant.spool import SET_ASIDE_FILE, SpooledWebhook

PHONE = "+447700900929"


def cli(stack, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "assistant", *args],
        cwd=PROJECT_ROOT,
        env=stack.env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.stack
def test_export_then_erase_a_resident_including_rasas_copy(stack):
    """Test that a resident's data, and Rasa's tracker events, are exported as
    JSON and then erased, leaving orders anonymous."""
    stack.sms(PHONE, "hello"), stack.sms(PHONE, "Ursula Private")
    stack.sms(PHONE, "12 Secret Street, Anytown AB1 1AA")
    stack.sms(PHONE, "a box of cornflakes please")
    stack.sms(PHONE, "place my order"), stack.sms(PHONE, "yes please")

    exported = cli(stack, "resident", "export", PHONE)
    assert exported.returncode == 0, exported.stderr
    data = json.loads(exported.stdout)
    assert data["resident"]["name"] == "Ursula Private"
    assert any("cornflakes" in m["body"] for m in data["messages"])
    assert len(data["orders"]) == 1 and data["order_lines"]
    assert any(e["event"] == "user" for e in data["assistant_conversation"])
    resident_id = data["resident"]["id"]

    assert cli(stack, "resident", "erase", PHONE).returncode == 2  # needs --yes
    erased = cli(stack, "resident", "erase", PHONE, "--yes")
    assert erased.returncode == 0, erased.stderr

    db = stack.db()
    assert find_by_phone(db, PHONE) is None
    row = db.execute(
        "SELECT name, address, phone FROM residents WHERE id = ?", [resident_id]
    ).fetchone()
    messages = db.execute(
        "SELECT count(*) FROM messages WHERE resident_id = ?", [resident_id]
    ).fetchone()[0]
    orders = db.execute(
        "SELECT count(*) FROM orders WHERE resident_id = ?", [resident_id]
    ).fetchone()[0]
    db.close()
    assert row == (None, None, None)
    assert messages == 0 and orders == 1
    tracker = sqlite3.connect(str(stack.data_dir / "rasa_tracker.db"))
    events = tracker.execute(
        "SELECT count(*) FROM events WHERE sender_id = ?", [resident_id]
    ).fetchone()[0]
    tracker.close()
    assert events == 0
    again = ElementTree.fromstring(stack.sms(PHONE, "hello").text)
    welcome = " ".join(m.text or "" for m in again.iter("Message"))
    assert "what is your name" in welcome  # the number is a stranger again


def test_retention_deletes_old_transcripts_calls_events_and_audio(db, tmp_path):
    """Test that only what is older than the retention period is deleted."""
    resident = add_resident(db, "+447700900930", "Vi", "1 Road")
    old, _ = record_inbound(db, "sms", "SMold", resident.id, "an old message")
    new, _ = record_inbound(db, "sms", "SMnew", resident.id, "a new message")
    long_ago = (datetime.now(timezone.utc) - timedelta(days=400)).isoformat()
    db.execute("UPDATE messages SET created_at = ? WHERE id = ?", [long_ago, old])
    # Rasa's SQL tracker store keeps events in a table of this shape; it is made
    # here by hand so that old events can be dated, which Rasa does not allow.
    tracker_path = tmp_path / "rasa_tracker.db"
    tracker = sqlite3.connect(str(tracker_path))
    tracker.execute(
        "CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255) NOT "
        "NULL, type_name VARCHAR(255) NOT NULL, timestamp FLOAT, intent_name "
        "VARCHAR(255), action_name VARCHAR(255), data TEXT)"
    )
    now = datetime.now(timezone.utc).timestamp()
    tracker.executemany(
        "INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (?,?,?,?)",
        [
            (resident.id, "user", now - 400 * 86400, "{}"),
            (resident.id, "user", now, "{}"),
        ],
    )
    tracker.commit()
    tracker.close()
    audio = tmp_path / "voice"
    audio.mkdir()
    (audio / "fresh.wav").write_bytes(b"RIFF")
    stale = audio / "stale.wav"
    stale.write_bytes(b"RIFF")
    os.utime(stale, (now - 400 * 86400, now - 400 * 86400))

    removed = apply_retention(db, tracker_path, audio, days=365)

    assert removed == {"messages": 1, "calls": 0, "tracker_events": 1, "audio_files": 1}
    left = [row[0] for row in db.execute("SELECT id FROM messages")]
    assert left == [new]
    assert (audio / "fresh.wav").exists() and not stale.exists()


def test_set_aside_webhooks_go_with_retention_and_with_their_resident(db, tmp_path):
    """Test that webhooks set aside from the spool (they hold residents' words)
    are deleted once older than the retention period, and when their resident
    is erased, and that the others are kept."""
    spool_dir = tmp_path / "data"
    spool_dir.mkdir()
    now = datetime.now(timezone.utc)

    def set_aside(phone: str, body: str, days_ago: int) -> None:
        entry = SpooledWebhook(
            "sms",
            f"sms:SM{body}",
            {"From": phone, "Body": body},
            spooled_at=(now - timedelta(days=days_ago)).isoformat(timespec="seconds"),
        )
        with (spool_dir / SET_ASIDE_FILE).open("ab") as file:
            file.write(entry.as_line())

    joan = add_resident(db, "+447700900931", "Joan", "1 Spool Rd")
    set_aside("+447700900931", "old", 400)
    set_aside("+447700900931", "recent", 3)
    set_aside("+447700900932", "someone else", 3)

    removed = apply_retention(db, tmp_path / "none.db", None, 365, spool_dir=spool_dir)
    assert removed["set_aside_webhooks"] == 1
    erase_resident(db, tmp_path / "none.db", joan.id, spool_dir)

    left = (spool_dir / SET_ASIDE_FILE).read_text(encoding="utf-8")
    assert "someone else" in left
    assert "old" not in left and "recent" not in left
