"""Simulated residents holding ordering conversations, by signed SMS or plain REST.

Each simulated resident sends a message, waits for the answer and sends the
next: at once (no time to think), so that a level of N residents keeps N turns
in flight and the figures are what the machine can do; or, when paced, after
reading the answer and writing the next message, as people do.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
import sqlite3
import statistics
import time
import uuid
import xml.etree.ElementTree as ElementTree
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol
from urllib.parse import urlencode

import httpx
import sqlite_utils
from twilio.request_validator import RequestValidator

from assistant.conversation import UNAVAILABLE
from assistant.residents import add_resident
from assistant.store import transaction
from bench.shopping import ShoppingConversation, joined
from bench.stack import PUBLIC_URL, TWILIO_ACCOUNT, TWILIO_NUMBER, TWILIO_TOKEN

logger = logging.getLogger(__name__)

REQUEST_TIMEOUT_SECONDS = 60
# Twilio retries a webhook it got no answer to; one turn in RETRY_EVERY is sent
# again with the same MessageSid, after its answer, to prove it is not redone.
RETRY_EVERY = 10


@dataclass(frozen=True)
class SimulatedResident:
    id: str
    phone: str


def add_residents(
    db: sqlite_utils.Database, count: int, first_number: int
) -> list[SimulatedResident]:
    """Register `count` new residents in the store, as a coordinator would."""
    made = []
    with transaction(db):
        for number in range(first_number, first_number + count):
            phone = f"+44780{number:07d}"
            resident = add_resident(
                db, phone, f"Resident {number}", f"{number} Bench Street, AB1 2CD"
            )
            made.append(SimulatedResident(resident.id, phone))
    return made


@dataclass(frozen=True)
class Exchange:
    """One message sent and what came back."""

    replies: list[str]
    seconds: float
    error: str | None = None
    sid: str | None = None


class Target(Protocol):
    label: str

    async def turn(
        self, client: httpx.AsyncClient, resident: SimulatedResident, text: str
    ) -> Exchange: ...


def error_name(error: Exception) -> str:
    return type(error).__name__


class GatewayTarget:
    """The assistant's gateway: SMS webhooks signed exactly as Twilio signs them."""

    label = "Gateway"

    def __init__(self, base_url: str) -> None:
        self.url = base_url + "/twilio/sms"
        self.signed_url = PUBLIC_URL + "/twilio/sms"
        self.validator = RequestValidator(TWILIO_TOKEN)

    async def turn(
        self,
        client: httpx.AsyncClient,
        resident: SimulatedResident,
        text: str,
        sid: str | None = None,
    ) -> Exchange:
        sid = sid or "SM" + uuid.uuid4().hex
        params = {
            "MessageSid": sid,
            "AccountSid": TWILIO_ACCOUNT,
            "From": resident.phone,
            "To": TWILIO_NUMBER,
            "Body": text,
            "NumMedia": "0",
        }
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": self.validator.compute_signature(
                self.signed_url, params
            ),
        }
        started = time.perf_counter()
        try:
            response = await client.post(
                self.url, content=urlencode(params), headers=headers
            )
        except httpx.HTTPError as error:
            return Exchange([], time.perf_counter() - started, error_name(error), sid)
        seconds = time.perf_counter() - started
        if response.status_code != 200:
            return Exchange([], seconds, f"HTTP {response.status_code}", sid)
        root = ElementTree.fromstring(response.text)
        replies = [message.text or "" for message in root.iter("Message")]
        if UNAVAILABLE in replies:
            return Exchange(replies, seconds, "holding reply", sid)
        return Exchange(replies, seconds, None, sid)


class PlainRasaTarget:
    """Rasa's own REST channel, with nothing in front of it."""

    label = "Plain Rasa"

    def __init__(self, base_url: str) -> None:
        self.url = base_url + "/webhooks/rest/webhook"

    async def turn(
        self, client: httpx.AsyncClient, resident: SimulatedResident, text: str
    ) -> Exchange:
        started = time.perf_counter()
        try:
            response = await client.post(
                self.url, json={"sender": resident.id, "message": text}
            )
            answers = response.json() if response.status_code == 200 else None
        except (httpx.HTTPError, ValueError) as error:
            return Exchange([], time.perf_counter() - started, error_name(error))
        seconds = time.perf_counter() - started
        if answers is None:
            return Exchange([], seconds, f"HTTP {response.status_code}")
        replies = [answer["text"] for answer in answers if answer.get("text")]
        # The gateway turns silence into a holding reply; count it alike.
        return Exchange(replies, seconds, None if replies else "no reply")


@dataclass(frozen=True)
class RetryCheck:
    seconds: float
    same_replies: bool


@dataclass
class LoadResult:
    """Everything one target did at one level of load."""

    label: str
    residents: int
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    conversations_finished: int = 0
    orders_placed: int = 0
    handed_off: int = 0
    residents_used: int = 0
    sent: dict[str, list[Exchange]] = field(default_factory=dict)
    retries: list[RetryCheck] = field(default_factory=list)

    @property
    def turns(self) -> int:
        return len(self.latencies)

    @property
    def turns_per_second(self) -> float:
        return self.turns / self.seconds if self.seconds else 0.0

    def add(self, other: LoadResult) -> None:
        """Fold in another segment of the same target at the same level."""
        self.seconds += other.seconds
        self.latencies += other.latencies
        self.errors.update(other.errors)
        self.conversations_finished += other.conversations_finished
        self.orders_placed += other.orders_placed
        self.handed_off += other.handed_off
        self.residents_used += other.residents_used
        for resident_id, exchanges in other.sent.items():
            self.sent.setdefault(resident_id, []).extend(exchanges)
        self.retries += other.retries


@dataclass(frozen=True)
class LatencySummary:
    median_ms: float
    p95_ms: float
    max_ms: float


def summarise(latencies: Sequence[float]) -> LatencySummary:
    if len(latencies) < 2:
        only = latencies[0] * 1000 if latencies else 0.0
        return LatencySummary(only, only, only)
    p95 = statistics.quantiles(latencies, n=100, method="inclusive")[94]
    return LatencySummary(
        statistics.median(latencies) * 1000, p95 * 1000, max(latencies) * 1000
    )


_seeds = itertools.count(1)


@dataclass
class SimulatedUser:
    """One simulated resident's place in its conversation.

    Kept between segments of load, so a segment carries on the conversations
    the last one left, rather than starting them all again at once.
    """

    residents: Iterator[SimulatedResident]
    """Where the next fresh resident comes from, for the next conversation."""
    resident: SimulatedResident | None = None
    conversation: ShoppingConversation | None = None
    reply: str | None = None

    def next_turn(self, result: LoadResult) -> tuple[SimulatedResident, str]:
        """Who says what next; a finished conversation is counted in `result`."""
        while True:
            if self.conversation is None or self.resident is None:
                self.resident = next(self.residents)
                self.conversation = ShoppingConversation(next(_seeds))
                self.reply = None
                result.residents_used += 1
            text = self.conversation.next_message(self.reply)
            if text is not None:
                return self.resident, text
            result.conversations_finished += 1
            result.orders_placed += self.conversation.placed
            result.handed_off += self.conversation.handed_off
            self.conversation = None


async def drive(
    target: Target,
    residents: Iterator[SimulatedResident],
    concurrency: int,
    duration: float,
    *,
    retry_every: int = 0,
    users: list[SimulatedUser] | None = None,
    think_seconds: tuple[float, float] | None = None,
) -> LoadResult:
    """Keep `concurrency` residents in conversation with `target` for `duration`.

    Each simulated resident holds one whole ordering conversation as a fresh
    registered resident, then the next as another, until the time is up; no
    new turn starts after that, and turns in flight are waited for. Pass
    `users` (as many as `concurrency`) to carry on their conversations. With
    `think_seconds` (shortest, longest), each resident waits a time drawn
    evenly from that range before each message, the first one included, so
    that the residents do not all write at the same moment.
    """
    users = users or [SimulatedUser(residents) for _ in range(concurrency)]
    result = LoadResult(target.label, len(users))
    limits = httpx.Limits(max_connections=len(users) + 5)
    started = time.perf_counter()
    deadline = started + duration
    last_finished = started
    pace = random.Random(concurrency)

    async def converse(client: httpx.AsyncClient, user: SimulatedUser) -> None:
        nonlocal last_finished
        while time.perf_counter() < deadline:
            if think_seconds:
                await asyncio.sleep(pace.uniform(*think_seconds))
                if time.perf_counter() >= deadline:
                    break
            resident, text = user.next_turn(result)
            exchange = await target.turn(client, resident, text)
            last_finished = time.perf_counter()
            result.sent.setdefault(resident.id, []).append(exchange)
            result.latencies.append(exchange.seconds)
            if exchange.error:
                # Like a resident left without an answer: say the next thing.
                result.errors[exchange.error] += 1
                user.reply = None
                continue
            if retry_every and len(result.latencies) % retry_every == 0:
                again = await target.turn(client, resident, text, exchange.sid)
                result.retries.append(
                    RetryCheck(again.seconds, again.replies == exchange.replies)
                )
            user.reply = joined(exchange.replies)

    timeout = httpx.Timeout(REQUEST_TIMEOUT_SECONDS)
    async with httpx.AsyncClient(limits=limits, timeout=timeout) as client:
        await asyncio.gather(*(converse(client, user) for user in users))
    result.seconds = last_finished - started
    return result


@dataclass(frozen=True)
class StoreCheck:
    """Whether the store and Rasa hold each message once, no more, no less."""

    sent: int
    """Distinct MessageSids sent, retries not counted again."""
    stored_once: int
    lost: int
    """Sent, but with no inbound row in the store."""
    stored_twice: int
    """MessageSids with more than one inbound row."""
    unanswered: int
    """Inbound rows with no stored reply."""
    replies_differ: int
    """Inbound rows whose stored replies are not what the webhook answered."""
    unexpected: int
    """Inbound rows of these residents with a MessageSid never sent."""
    rasa_saw: int
    """User messages in Rasa's tracker store from these residents."""


def normalised(texts: Sequence[str]) -> str:
    return " ".join(" ".join(texts).split())


def check_store(
    db: sqlite_utils.Database, tracker_db: Path, sent: dict[str, list[Exchange]]
) -> StoreCheck:
    """Compare what was sent to the gateway with its store and Rasa's tracker."""
    counts = Counter()
    for resident_id, exchanges in sent.items():
        by_sid = {exchange.sid: exchange for exchange in exchanges}
        counts["sent"] += len(by_sid)
        inbound = db.execute(
            "SELECT id, provider_id FROM messages "
            "WHERE resident_id = ? AND direction = 'in'",
            [resident_id],
        ).fetchall()
        stored = Counter(provider_id for _, provider_id in inbound)
        counts["unexpected"] += sum(1 for sid in stored if sid not in by_sid)
        counts["stored_twice"] += sum(1 for n in stored.values() if n > 1)
        counts["lost"] += sum(1 for sid in by_sid if sid not in stored)
        counts["stored_once"] += sum(1 for sid in by_sid if stored.get(sid) == 1)
        for message_id, sid in inbound:
            replies = [
                row[0]
                for row in db.execute(
                    "SELECT body FROM messages WHERE reply_to = ? "
                    "AND direction = 'out' ORDER BY id",
                    [message_id],
                )
            ]
            if not replies:
                counts["unanswered"] += 1
            elif sid in by_sid and by_sid[sid].replies:
                answered = normalised(by_sid[sid].replies)
                counts["replies_differ"] += normalised(replies) != answered
    counts["rasa_saw"] = rasa_user_messages(tracker_db, list(sent))
    return StoreCheck(**{name: counts[name] for name in StoreCheck.__annotations__})


def check_plain_rasa(tracker_db: Path, sent: dict[str, list[Exchange]]) -> StoreCheck:
    """Compare what was sent to plain Rasa with the user messages its tracker holds."""
    total = sum(len(exchanges) for exchanges in sent.values())
    return StoreCheck(
        sent=total,
        stored_once=0,
        lost=0,
        stored_twice=0,
        unanswered=0,
        replies_differ=0,
        unexpected=0,
        rasa_saw=rasa_user_messages(tracker_db, list(sent)),
    )


def rasa_user_messages(tracker_db: Path, sender_ids: Sequence[str]) -> int:
    """How many user messages Rasa's SQL tracker store holds from these senders."""
    connection = sqlite3.connect(f"file:{tracker_db}?mode=ro", uri=True)
    try:
        total = 0
        for sender_id in sender_ids:
            total += connection.execute(
                "SELECT count(*) FROM events "
                "WHERE sender_id = ? AND type_name = 'user'",
                [sender_id],
            ).fetchone()[0]
        return total
    finally:
        connection.close()
