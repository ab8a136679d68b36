"""The resident's tablet on the real stack: page weight, page load in headless
Chromium, a tap, a spoken turn over WS /tablet, and the processes' memory.

The stack runs as `helping-hands run` starts it (bench.assistant_run) on a
fresh data folder. Every tablet is paired as a coordinator pairs one: a
one-time code from assistant.devices, traded at POST /tablet/api/pair for the
device token the page carries in its cookie. The browser figures come from
bench/tablet_browser.py, the spoken turns from bench/tablet_voice.py.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from assistant.basket import set_quantity
from assistant.channels.tablet import CSRF_HEADER, DEVICE_COOKIE
from assistant.devices import new_pairing_code
from bench.load import add_residents
from bench.measure import BenchmarkError
from bench.stack import (
    AssistantStack,
    children_of,
    command_line,
    copy_model,
    fresh_folder,
    memory_of,
)
from bench.tablet_browser import BrowserFigures, measure_browser
from bench.tablet_render import render
from bench.tablet_voice import (
    ORDERS,
    Order,
    SpokenTurn,
    basket_change,
    quantities,
    record,
    spoken_turn,
)

logger = logging.getLogger(__name__)

PAGE_LOADS = 12
LINE_TAPS = 30
AISLE_TAPS = 10
# A resident's basket when the page opens: three lines, as after a first order.
STARTING_BASKET = (
    ("soup-tomato-400g", 1),
    ("beans-baked-400g", 2),
    ("milk-semi-2pt", 1),
)
_numbers = itertools.count(1)


@dataclass(frozen=True)
class TypedTurn:
    """An order typed (POST /tablet/api/say), as a control for the spoken."""

    order: Order
    seconds: float
    change: dict[str, int]

    @property
    def right_change(self) -> bool:
        return self.change == {self.order.sku: self.order.quantity}


@dataclass
class TabletFigures:
    browser: BrowserFigures
    turns: list[SpokenTurn]
    typed: list[TypedTurn]
    warm_up: SpokenTurn
    synthesis_seconds: float
    engine: str
    memory: dict[str, dict[str, float]] = field(default_factory=dict)
    model_note: str = ""


class Residents:
    """Residents on the stack's store, each with a tablet paired by a code."""

    def __init__(self, stack: AssistantStack) -> None:
        self.stack = stack

    def new(self, basket: tuple[tuple[str, int], ...] = ()) -> str:
        """A new resident with `basket`; the token of a tablet paired to them."""
        db = self.stack.database()
        try:
            (resident,) = add_residents(db, 1, first_number=next(_numbers))
            for sku, quantity in basket:
                set_quantity(db, resident.id, sku, quantity)
            code = new_pairing_code(db, resident.id, label="bench tablet")
        finally:
            db.close()
        response = httpx.post(
            self.stack.base_url + "/tablet/api/pair",
            json={"code": code.code},
            headers={CSRF_HEADER: "tablet"},
            timeout=30,
        )
        for header in response.headers.get_list("set-cookie"):
            found = re.match(rf"{DEVICE_COOKIE}=([^;]+)", header)
            if response.status_code == 200 and found:
                return found.group(1)
        raise BenchmarkError(f"pairing a tablet failed: {response.status_code}")

    def for_browser(self) -> str:
        return self.new(STARTING_BASKET)


async def typed_turn(base_url: str, token: str, order: Order) -> TypedTurn:
    async with httpx.AsyncClient(base_url=base_url, timeout=120) as client:
        started = time.perf_counter()
        response = await client.post(
            "/tablet/api/say",
            json={"id": uuid.uuid4().hex, "text": order.text},
            headers={CSRF_HEADER: "tablet", "Cookie": f"{DEVICE_COOKIE}={token}"},
        )
        seconds = time.perf_counter() - started
    basket = response.json().get("basket", {}) if response.status_code == 200 else {}
    return TypedTurn(order, seconds, basket_change({}, quantities(basket)))


def speech_engine(stack: AssistantStack) -> str:
    """The recogniser the gateway says it loaded, from the stack's log."""
    log = stack.log_path.read_text(encoding="utf-8", errors="replace")
    found = re.findall(r"speech engines ready \((.+)\)", log)
    return found[-1] if found else "not named in the log"


def memory_now(stack: AssistantStack) -> dict[str, dict[str, float]]:
    figures = {}
    for name, pid in stack.processes().items():
        figures[name] = memory_of(pid)
        if name == "gateway":
            workers = 0
            for child in children_of(pid):
                command = command_line(child)
                if "resource_tracker" in command:
                    label = "gateway's multiprocessing resource tracker"
                elif "forkserver" in command:
                    label = "gateway's multiprocessing fork server"
                else:
                    workers += 1
                    label = f"recognition worker {workers}"
                figures[label] = memory_of(child)
    return figures


def measure(stack: AssistantStack, folder: Path) -> TabletFigures:
    started = time.perf_counter()
    recordings = record(folder / "tts")
    synthesis_seconds = time.perf_counter() - started
    stack.wait_until_ready()
    residents = Residents(stack)
    base_url = stack.base_url

    # The first turn waits for the speech engines to load and wakes Rasa.
    logger.info("tablet: a first spoken turn, waiting for the speech engines")
    warm_up = asyncio.run(spoken_turn(base_url, residents.new(), recordings[0], {}))
    browser = measure_browser(
        base_url, residents.for_browser, PAGE_LOADS, LINE_TAPS, AISLE_TAPS
    )
    stack.check_running()

    logger.info("tablet: %s typed orders", len(ORDERS))
    typed = [
        asyncio.run(typed_turn(base_url, residents.new(), order)) for order in ORDERS
    ]
    logger.info("tablet: %s spoken turns", len(recordings))
    turns = []
    for recording in recordings:
        turns.append(asyncio.run(spoken_turn(base_url, residents.new(), recording, {})))
    stack.check_running()
    return TabletFigures(
        browser=browser,
        turns=turns,
        typed=typed,
        warm_up=warm_up,
        synthesis_seconds=synthesis_seconds,
        engine=speech_engine(stack),
        memory=memory_now(stack),
    )


def run() -> str:
    """Measure the tablet on the real stack; print and return the section."""
    folder = fresh_folder("tablet")
    model = copy_model(folder / "model")
    stack = AssistantStack(folder / "data", model.path)
    stack.launch()
    try:
        figures = measure(stack, folder)
    finally:
        stack.stop()
    figures.model_note = model.describe()
    section = render(figures)
    print(section)
    return section
