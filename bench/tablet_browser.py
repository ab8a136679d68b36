"""The tablet page in real headless Chromium: its weight, its load, a tap.

Chromium is Debian's, driven by Playwright as the browser tests drive it.
Times are taken inside the page, on the page's own clock
(`performance.now()`, from the start of navigation), so Playwright's round
trips are left out: an init script notes when the app screen, with the basket
and the microphone, is shown, and when a tap's change reaches the screen.
"""

from __future__ import annotations

import gzip
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import sync_playwright

from assistant.channels.tablet import DEVICE_COOKIE
from bench.stack import children_of, command_line, memory_of

logger = logging.getLogger(__name__)

CHROMIUM = "/usr/bin/chromium"
LANDSCAPE = {"width": 1280, "height": 800}  # a 10-inch tablet, in CSS pixels
WAIT_MS = 60_000
TAP_WAIT_MS = 30_000
TAP_PAUSE_SECONDS = 1.0  # a resident looks at the basket before the next tap


@dataclass(frozen=True)
class Network:
    """A connection for CDP's Network.emulateNetworkConditions."""

    label: str
    latency_ms: float = 0
    down_bytes_per_second: float = -1
    up_bytes_per_second: float = -1

    @property
    def throttled(self) -> bool:
        return self.latency_ms > 0 or self.down_bytes_per_second > 0

    def describe(self) -> str:
        if not self.throttled:
            return f"{self.label} (no emulation: loopback)"
        return (
            f"{self.label} ({self.latency_ms:.0f} ms latency, "
            f"{self.down_bytes_per_second / 1024:.0f} KB/s down, "
            f"{self.up_bytes_per_second / 1024:.0f} KB/s up)"
        )


UNTHROTTLED = Network("unthrottled")
SLOW_3G = Network("slow 3G", 400, 50 * 1024, 20 * 1024)

# Notes, on the page's clock, when the app is shown with its basket and
# microphone, and when a tap's change shows: the quantity at once (the page
# changes it before asking the gateway) and the gateway's answer in words.
TIMING_SCRIPT = """
(() => {
  const hh = { shown: null, painted: null, tap: null };
  window.__hh = hh;
  const ready = () => {
    const app = document.getElementById("app");
    const mic = document.getElementById("mic");
    const basket = document.getElementById("basket");
    return document.body && document.body.dataset.screen === "app"
      && app && !app.hidden && mic && basket
      && document.querySelectorAll("#basket-lines .line").length > 0;
  };
  const watch = () => {
    if (hh.shown === null && ready()) {
      hh.shown = performance.now();
      requestAnimationFrame(() => setTimeout(() => {
        hh.painted = performance.now();
      }, 0));
    }
    const tap = hh.tap;
    if (tap && tap.shown === null) {
      const line = document.querySelector(
        `#basket-lines .line[data-sku="${tap.sku}"] .quantity`);
      if (line && line.textContent === String(tap.expected)) {
        tap.shown = performance.now();
      }
    }
    if (tap && tap.at !== null && tap.answered === null) {
      const words = document.getElementById("reply-text").textContent;
      const waiting = words.includes("Just a moment")
        || words.includes("Still sending");
      if (waiting) tap.waited = true;
      else if (tap.waited) {
        tap.answered = performance.now();
        tap.said = words;
      }
    }
  };
  new MutationObserver(watch).observe(document, {
    subtree: true, childList: true, attributes: true, characterData: true,
  });
  document.addEventListener("click", (event) => {
    const tap = hh.tap;
    if (tap && tap.at === null) tap.at = event.timeStamp;
  }, true);
})();
"""
# Functions, not expressions: the page's policy forbids eval.
PAINTED = "() => window.__hh.painted !== null"
TAP_SHOWN = "() => window.__hh.tap.answered !== null && window.__hh.tap.shown !== null"
NAVIGATION = """
() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const paint = performance.getEntriesByName("first-contentful-paint")[0];
  return {
    first_byte: nav.responseStart,
    first_contentful_paint: paint ? paint.startTime : null,
    dom_content_loaded: nav.domContentLoadedEventEnd,
    load: nav.loadEventEnd,
    shown: window.__hh.shown,
    painted: window.__hh.painted,
  };
}
"""


@dataclass(frozen=True)
class Resource:
    url: str
    kind: str
    status: int
    body_bytes: int
    """As sent on the wire (compressed, if the server compressed it)."""
    header_bytes: int
    encoding: str


@dataclass
class PageWeight:
    resources: list[Resource]
    gzip_bytes: dict[str, int] = field(default_factory=dict)
    """What gzip -6 would make of each static file and the page, by path."""


@dataclass(frozen=True)
class PageLoad:
    """One cold load, in milliseconds from the start of navigation."""

    first_byte: float
    first_contentful_paint: float | None
    dom_content_loaded: float
    load: float
    shown: float
    painted: float | None
    requests: int


@dataclass(frozen=True)
class Tap:
    kind: str
    """"+ on a basket line" or "Add in an aisle"."""
    shown_ms: float | None
    """From the tap event to the quantity changed on screen."""
    answered_ms: float | None
    """From the tap event to the gateway's answer on screen; None if none
    came in TAP_WAIT_MS."""
    as_expected: bool
    """Whether the answer named the quantity the tap should have made."""


@dataclass
class BrowserFigures:
    weight: PageWeight | None = None
    loads: dict[str, list[PageLoad]] = field(default_factory=dict)
    taps: dict[str, list[Tap]] = field(default_factory=dict)
    speech_bytes: list[int] = field(default_factory=list)
    """The size of each tap's spoken answer, fetched by the page."""
    chromium_memory: dict[str, float] = field(default_factory=dict)
    """Peak resident memory (VmHWM, MB) of Chromium's processes, by type."""
    version: str = ""


def descendants(pid: int) -> list[int]:
    found, waiting = [], [pid]
    while waiting:
        for child in children_of(waiting.pop()):
            found.append(child)
            waiting.append(child)
    return found


def chromium_memory() -> dict[str, float]:
    """VmHWM of every Chromium process this process started, summed by type."""
    by_type: dict[str, float] = {}
    for pid in descendants(os.getpid()):
        try:
            command = command_line(pid)
            peak = memory_of(pid).get("VmHWM", 0.0)
        except OSError:
            continue
        if "chromium" not in command.split(" ")[0]:
            continue
        kind = next(
            (w.split("=", 1)[1] for w in command.split() if w.startswith("--type=")),
            "browser",
        )
        by_type[kind] = by_type.get(kind, 0.0) + peak
    return by_type


def measure_weight(base_url: str, resources: list[Resource]) -> PageWeight:
    """The page's resources as loaded, and what gzip would save on each."""
    weight = PageWeight(resources)
    for resource in resources:
        path = resource.url.removeprefix(base_url)
        if path == "/" or path.startswith("/tablet/static/"):
            body = httpx.get(resource.url, timeout=10).content
            weight.gzip_bytes[path] = len(gzip.compress(body, 6))
    return weight


class TabletBrowser:
    """One headless Chromium for the whole benchmark."""

    def __init__(self, playwright, base_url: str, pair: Callable[[], str]) -> None:
        self.base_url = base_url
        self.pair = pair
        """Pairs a new tablet to a resident with some basket; its token."""
        self.browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--autoplay-policy=no-user-gesture-required"],
        )

    def close(self) -> None:
        self.browser.close()

    def new_page(self, network: Network):
        context = self.browser.new_context(
            viewport=LANDSCAPE, device_scale_factor=1, has_touch=True
        )
        context.add_cookies(
            [{"name": DEVICE_COOKIE, "value": self.pair(), "url": self.base_url}]
        )
        context.add_init_script(TIMING_SCRIPT)
        page = context.new_page()
        if network.throttled:
            session = context.new_cdp_session(page)
            session.send("Network.enable")
            session.send(
                "Network.emulateNetworkConditions",
                {
                    "offline": False,
                    "latency": network.latency_ms,
                    "downloadThroughput": network.down_bytes_per_second,
                    "uploadThroughput": network.up_bytes_per_second,
                },
            )
        return context, page

    def load_once(self, network: Network) -> tuple[PageLoad, list[Resource]]:
        """A cold load (a new browser context) of a paired tablet's page."""
        context, page = self.new_page(network)
        requests = []
        page.on("requestfinished", lambda request: requests.append(request))
        page.goto(self.base_url + "/", wait_until="load", timeout=WAIT_MS)
        page.wait_for_function(PAINTED, polling=50, timeout=WAIT_MS)
        times = page.evaluate(NAVIGATION)
        # Only what the page needed to be usable; the poll for updates after
        # it comes a little later and is counted if it has started.
        resources = []
        for request in requests:
            response = request.response()
            sizes = request.sizes()
            headers = response.headers if response else {}
            resources.append(
                Resource(
                    url=request.url,
                    kind=request.resource_type,
                    status=response.status if response else 0,
                    body_bytes=sizes["responseBodySize"],
                    header_bytes=sizes["responseHeadersSize"],
                    encoding=headers.get("content-encoding", ""),
                )
            )
        context.close()
        return PageLoad(requests=len(resources), **times), resources

    def loads(self, network: Network, count: int) -> list[PageLoad]:
        done = []
        for _ in range(count):
            load, _ = self.load_once(network)
            done.append(load)
        return done

    def taps(
        self, network: Network, line_taps: int, aisle_taps: int, figures: BrowserFigures
    ) -> list[Tap]:
        """+ on the first basket line, then Add on an aisle's first product."""
        context, page = self.new_page(network)
        spoken = []
        page.on(
            "requestfinished",
            lambda r: spoken.append(r) if "/tablet/api/speech/" in r.url else None,
        )
        page.goto(self.base_url + "/", timeout=WAIT_MS)
        page.wait_for_function(PAINTED, polling=50, timeout=WAIT_MS)
        done = []
        line = page.locator("#basket-lines .line").first
        for _ in range(line_taps):
            sku = line.get_attribute("data-sku")
            quantity = int(line.locator(".quantity").inner_text())
            done.append(
                self.tap(
                    page,
                    line.locator("button.more"),
                    "+ on a basket line",
                    sku,
                    quantity + 1,
                )
            )
        page.get_by_role("button", name="Tins & Jars").tap()
        product = page.locator("#products .product").first
        product.wait_for(timeout=WAIT_MS)
        sku = product.get_attribute("data-sku")
        for _ in range(aisle_taps):
            shown = page.locator(f'#basket-lines .line[data-sku="{sku}"] .quantity')
            quantity = int(shown.inner_text()) if shown.count() else 0
            done.append(
                self.tap(
                    page,
                    product.locator("button.add"),
                    "Add in an aisle",
                    sku,
                    quantity + 1,
                )
            )
        for kind, peak in chromium_memory().items():
            figures.chromium_memory[kind] = max(
                peak, figures.chromium_memory.get(kind, 0.0)
            )
        figures.speech_bytes += [r.sizes()["responseBodySize"] for r in spoken]
        context.close()
        return done

    def tap(self, page, button, kind: str, sku: str, expected: int) -> Tap:
        """Tap `button` and wait for the quantity, then the answer, on screen."""
        page.evaluate(
            "([sku, expected]) => { window.__hh.tap = {sku, expected, at: null, "
            "shown: null, waited: false, answered: null, said: ''}; }",
            [sku, expected],
        )
        button.tap()
        try:
            page.wait_for_function(TAP_SHOWN, polling=20, timeout=TAP_WAIT_MS)
        except PlaywrightTimeout:
            logger.warning("a tap got no answer on screen in %s ms", TAP_WAIT_MS)
        tap = page.evaluate("window.__hh.tap")
        time.sleep(TAP_PAUSE_SECONDS)
        # The answer names the new quantity: "Added 1 ..." or "You have 3 now".
        words = f"You have {expected} now" if expected > 1 else "Added 1 "
        return Tap(
            kind,
            None if tap["shown"] is None else tap["shown"] - tap["at"],
            None if tap["answered"] is None else tap["answered"] - tap["at"],
            words in tap["said"],
        )


def measure_browser(
    base_url: str,
    pair: Callable[[], str],
    loads: int,
    line_taps: int,
    aisle_taps: int,
) -> BrowserFigures:
    """Page weight, cold loads and taps, unthrottled and on slow 3G."""
    figures = BrowserFigures()
    with sync_playwright() as playwright:
        browser = TabletBrowser(playwright, base_url, pair)
        try:
            figures.version = browser.browser.version
            # The first load warms the gateway's caches; its resources are
            # the page weight.
            _, resources = browser.load_once(UNTHROTTLED)
            figures.weight = measure_weight(base_url, resources)
            for network in (UNTHROTTLED, SLOW_3G):
                logger.info("tablet page: %s cold loads, %s", loads, network.label)
                figures.loads[network.label] = browser.loads(network, loads)
            for network in (UNTHROTTLED, SLOW_3G):
                logger.info("tablet taps, %s", network.label)
                figures.taps[network.label] = browser.taps(
                    network, line_taps, aisle_taps, figures
                )
        finally:
            browser.close()
    return figures
