"""Twilio webhooks kept on disk while the store is busy, replayed in order later.

When another process holds the store's write lock for longer than a webhook
can wait, the webhook's form is appended to a spool file (one JSON line,
flushed and fsync'd before Twilio is answered) and the resident is told their
message has arrived. A background task in the gateway replays the spool, oldest
first, once the store takes writes again, also after a restart. Each entry has
a key (the MessageSid, say): a key already in the spool is not added twice, and
replaying an entry the store already holds does nothing more.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from assistant.store import check_writable, is_busy, utc_now

logger = logging.getLogger(__name__)

SPOOL_FILE = "webhook-spool.jsonl"
SET_ASIDE_FILE = "webhook-spool-failed.jsonl"
DRAIN_EVERY_SECONDS = 1.0
# The check that the store takes writes again runs on the event loop, so it
# waits only briefly; it is tried again every DRAIN_EVERY_SECONDS.
PROBE_PATIENCE_MS = 100


@dataclass(frozen=True)
class SpooledWebhook:
    """One webhook kept for later."""

    kind: str
    """What it was: "sms", "call", "gather", ..., which decides how it replays."""
    key: str
    """Unique per webhook, such as "sms:SM...": a retried webhook has the same."""
    form: dict[str, str]
    """The form Twilio posted, its signature already checked."""
    query: dict[str, str] = field(default_factory=dict)
    spooled_at: str = ""

    def as_line(self) -> bytes:
        record = {
            "kind": self.kind,
            "key": self.key,
            "form": self.form,
            "query": self.query,
            "spooled_at": self.spooled_at,
        }
        return (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")


Replayer = Callable[[object, SpooledWebhook], Awaitable[None]]


class WebhookSpool:
    """The spool file, and what of it is still to be replayed.

    Everything here runs on the gateway's event loop, so appending, replaying
    and rewriting the file never interleave within one call.
    """

    def __init__(self, folder: Path) -> None:
        self.path = Path(folder) / SPOOL_FILE
        self.set_aside_path = Path(folder) / SET_ASIDE_FILE
        self.pending: list[SpooledWebhook] = []
        self.store_busy = False
        """Set when a webhook found the store busy; cleared once it takes writes.
        While set, webhooks spool at once instead of waiting for the lock."""
        self._load()

    def _load(self) -> None:
        if not self.path.exists():
            return
        for number, line in enumerate(self.path.read_bytes().splitlines(), 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                entry = SpooledWebhook(
                    str(record["kind"]),
                    str(record["key"]),
                    dict(record["form"]),
                    dict(record.get("query") or {}),
                    str(record.get("spooled_at", "")),
                )
            except (ValueError, KeyError, TypeError):
                # Only a line cut off by a crash can be torn, and its webhook
                # was never answered, so Twilio saw a failure, not a success.
                logger.warning("skipped unreadable line %s of the spool", number)
                continue
            if not self.holds(entry.key):
                self.pending.append(entry)
        if self.pending:
            logger.warning("%s webhook(s) in the spool to replay", len(self.pending))

    def holds(self, key: str) -> bool:
        """Whether the webhook with `key` is waiting in the spool."""
        return any(entry.key == key for entry in self.pending)

    def add(
        self,
        kind: str,
        key: str,
        form: dict[str, str],
        query: dict[str, str] | None = None,
    ) -> None:
        """Keep a webhook for later, on disk before this returns.

        Raises:
            OSError: it could not be written (the disk is full, say).
        """
        if self.holds(key):
            return
        entry = SpooledWebhook(kind, key, dict(form), dict(query or {}), utc_now())
        self._append(self.path, entry)
        self.pending.append(entry)
        logger.warning("kept a %s webhook in the spool until the store is free", kind)

    def _append(self, path: Path, entry: SpooledWebhook) -> None:
        is_new = not path.exists()
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(descriptor, entry.as_line())
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        if is_new:
            sync_folder(path.parent)

    def done(self, entry: SpooledWebhook) -> None:
        """Forget a replayed entry; the file is rewritten by `compact`."""
        self.pending = [kept for kept in self.pending if kept is not entry]

    def set_aside(self, entry: SpooledWebhook) -> None:
        """Move an entry that cannot be replayed out of the way of the rest,
        into a file of its own for a person to look at. Retention and
        erasure delete from it too (`forget_set_aside`)."""
        self._append(self.set_aside_path, entry)
        self.done(entry)

    def compact(self) -> None:
        """Rewrite the spool file as what is still pending (none: no file)."""
        if not self.pending:
            self.path.unlink(missing_ok=True)
            return
        rewrite(self.path, b"".join(entry.as_line() for entry in self.pending))


def rewrite(path: Path, data: bytes) -> None:
    """Replace `path` with `data` durably, readable by its owner alone."""
    temporary = path.with_suffix(".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(descriptor, data)
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    os.replace(temporary, path)
    sync_folder(path.parent)


def sync_folder(folder: Path) -> None:
    """Make a file's creation or renaming in `folder` durable."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def forget_set_aside(
    folder: Path, *, older_than: str | None = None, phone: str | None = None
) -> int:
    """Delete set-aside webhooks spooled before `older_than` (an ISO time in
    UTC, as `utc_now` writes), or sent from `phone`; answer how many.

    Set-aside webhooks hold residents' words, so they are kept no longer than
    transcripts are, and go when their resident is erased."""
    path = Path(folder) / SET_ASIDE_FILE
    if not path.exists() or (older_than is None and phone is None):
        return 0
    kept, forgotten = [], 0
    for line in path.read_bytes().splitlines():
        try:
            record = json.loads(line)
            spooled_at = str(record.get("spooled_at", ""))
            sender = str((record.get("form") or {}).get("From", ""))
        except (ValueError, AttributeError):
            forgotten += 1  # torn or unreadable: nothing to replay or show
            continue
        if (older_than is not None and spooled_at < older_than) or (
            phone is not None and sender == phone
        ):
            forgotten += 1
            continue
        kept.append(line + b"\n")
    if forgotten:
        rewrite(path, b"".join(kept))
    return forgotten


async def replay_spool(state, replayers: dict[str, Replayer]) -> int:
    """Replay the spool in order while the store takes writes; return how
    many entries were replayed.

    An entry that meets a busy store again stays, with all after it, for the
    next round; one that fails otherwise is set aside so it cannot hold up
    the rest.
    """
    spool: WebhookSpool = state.spool
    if not spool.pending:
        return 0
    try:
        check_writable(state.db, PROBE_PATIENCE_MS)
    except Exception as error:
        if not is_busy(error):
            raise
        spool.store_busy = True
        return 0
    if spool.store_busy:
        logger.info("the store takes writes again; replaying the spool")
    spool.store_busy = False
    replayed = 0
    try:
        while spool.pending:
            entry = spool.pending[0]
            replayer = replayers.get(entry.kind)
            try:
                if replayer is None:
                    raise LookupError(f"no replayer for {entry.kind!r} webhooks")
                await replayer(state, entry)
            except Exception as error:
                if is_busy(error):
                    spool.store_busy = True
                    logger.warning("the store is busy again; the spool waits")
                    break
                logger.exception("a spooled %s webhook failed; set aside", entry.kind)
                spool.set_aside(entry)
                continue
            spool.done(entry)
            replayed += 1
    finally:
        spool.compact()
    if replayed:
        logger.info("replayed %s webhook(s) from the spool", replayed)
    return replayed
