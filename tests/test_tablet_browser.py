"""The resident's tablet in a real headless Chromium, on the real stack.

The page talks to the stack's own gateway (Rasa server and action server
behind it), as a paired tablet would. Every main screen is audited in the
browser: text sizes, target sizes and the space between targets, colour
contrast, and a name on every control; the figures go to
test-results/tablet/accessibility.json and screenshots beside them.

The voice test feeds Chromium's fake microphone a WAV file of our own
speech engine saying "add two tins of tomato soup": the page streams it to
WS /tablet as 16 kHz PCM, pocketsphinx recognises it, the assistant answers,
and the line appears in the basket on screen.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from assistant.basket import basket_lines, set_quantity
from assistant.channels.tablet import DEVICE_COOKIE
from assistant.config import PROJECT_ROOT, load_settings
from assistant.conversation import ConversationRouter
from assistant.devices import (
    device_for_token,
    new_pairing_code,
    pair_directly,
    unpair_device,
)
from assistant.handoffs import active_handoff, end_handoff
from assistant.messages import record_inbound, record_outbound
from assistant.orders import latest_order
from assistant.residents import add_resident, get_resident
from assistant.volunteers import add_volunteer, remove_volunteer
from voice.audio import SPEECH_RATE, write_wav
from voice.errors import SynthesisError
from voice.speech import Synthesiser, VoiceSettings

playwright_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is a test dependency: pip install .[test]"
)
expect = playwright_api.expect

pytestmark = pytest.mark.stack

CHROMIUM = "/usr/bin/chromium"
RESULTS = PROJECT_ROOT / "test-results" / "tablet"
LANDSCAPE = {"width": 1280, "height": 800}  # a 10-inch tablet, in CSS pixels
PORTRAIT = {"width": 800, "height": 1280}
ZOOMED = {"width": 640, "height": 400}  # landscape at 200% zoom
ZOOMED_PORTRAIT = {"width": 400, "height": 640}
ANSWER_MS = 40_000  # a turn through Rasa, on a busy two-core machine
LIVE_MS = 15_000  # a poll of the updates, and slack
VOICE_MS = 90_000  # speech, recognition, a turn and the reply's speech
SPOKEN_SENTENCE = "add two tins of tomato soup"
_numbers = itertools.count(2000)  # numbers no other test module uses
FIGURES: dict[str, dict] = {}

# Measures what is on screen now. Text: every visible element with words of
# its own. Targets: every visible control whose middle is not covered by
# another element; the space between two is measured between what shows of
# them (the fixed bar covers what scrolls under it). Contrast is WCAG's,
# against the first opaque background behind the text.
AUDIT = """
() => {
  const shown = (el) => {
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    return box.width > 0 && box.height > 0 && style.visibility !== "hidden"
      && el.closest("[hidden]") === null;
  };
  const rgb = (text) => {
    const parts = text.match(/[\\d.]+/g).map(Number);
    return { rgb: parts.slice(0, 3), alpha: parts.length > 3 ? parts[3] : 1 };
  };
  const channel = (c) => {
    c /= 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  const luminance = ([r, g, b]) =>
    0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  const behind = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const colour = rgb(getComputedStyle(e).backgroundColor);
      if (colour.alpha > 0.5) return colour.rgb;
    }
    return [255, 255, 255];
  };
  const nameOf = (el) => {
    const label = el.getAttribute("aria-label");
    if (label) return label.trim();
    if (el.labels && el.labels.length) return el.labels[0].textContent.trim();
    return (el.textContent || el.title || "").trim();
  };
  const result = {
    smallest_text: { size: 999, text: "" },
    lowest_contrast: { ratio: 99, text: "" },
    smallest_target: { width: 999, height: 999, name: "" },
    closest_targets: { gap: 999, names: [] },
    unnamed: [],
    targets: 0,
    overflow: document.documentElement.scrollWidth > window.innerWidth + 1,
  };
  for (const el of document.querySelectorAll("body *")) {
    if (!shown(el)) continue;
    const own = Array.from(el.childNodes)
      .filter((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own.length) continue;
    const text = own.map((n) => n.textContent.trim()).join(" ").slice(0, 60);
    const style = getComputedStyle(el);
    const size = parseFloat(style.fontSize);
    if (size < result.smallest_text.size) result.smallest_text = { size, text };
    const a = luminance(rgb(style.color).rgb);
    const b = luminance(behind(el));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < result.lowest_contrast.ratio) {
      result.lowest_contrast = { ratio: Math.round(ratio * 100) / 100, text };
    }
  }
  // Targets scrolled under a fixed bar are measured by what shows of them.
  const bars = Array.from(document.querySelectorAll("body *"))
    .filter((e) => getComputedStyle(e).position === "fixed" && shown(e));
  const showing = (el, box) => {
    let top = Math.max(box.top, 0), bottom = Math.min(box.bottom, innerHeight);
    for (const bar of bars) {
      if (bar.contains(el)) continue;
      const over = bar.getBoundingClientRect();
      if (over.top < bottom && over.top > top) bottom = over.top;
      if (over.bottom > top && over.bottom < bottom) top = over.bottom;
    }
    return { left: box.left, right: box.right, top, bottom };
  };
  const targets = [];
  const controls = "button, a[href], input, select, textarea, [role=button]";
  for (const el of document.querySelectorAll(controls)) {
    if (!shown(el)) continue;
    const box = el.getBoundingClientRect();
    if (!nameOf(el)) result.unnamed.push(el.outerHTML.slice(0, 80));
    const x = box.left + box.width / 2, y = box.top + box.height / 2;
    if (x < 0 || y < 0 || x > innerWidth || y > innerHeight) continue;
    const hit = document.elementFromPoint(x, y);
    if (!hit || !(el === hit || el.contains(hit))) continue;
    targets.push({ box: showing(el, box), name: nameOf(el) });
    const least = result.smallest_target;
    if (Math.min(box.width, box.height) < Math.min(least.width, least.height)) {
      result.smallest_target = {
        width: Math.round(box.width),
        height: Math.round(box.height),
        name: nameOf(el),
      };
    }
  }
  result.targets = targets.length;
  for (let i = 0; i < targets.length; i++) {
    for (let j = i + 1; j < targets.length; j++) {
      const p = targets[i].box, q = targets[j].box;
      const dx = Math.max(p.left, q.left) - Math.min(p.right, q.right);
      const dy = Math.max(p.top, q.top) - Math.min(p.bottom, q.bottom);
      const gap = Math.round(Math.max(0, dx, dy));
      if (gap < result.closest_targets.gap) {
        const names = [targets[i].name, targets[j].name];
        result.closest_targets = { gap, names };
      }
    }
  }
  return result;
}
"""


@pytest.fixture(scope="module", autouse=True)
def accessibility_figures():
    """Write every screen's figures, and the worst of each, after the tests."""
    yield
    if not FIGURES:
        return
    worst = {
        "smallest_text_px": min(f["smallest_text"]["size"] for f in FIGURES.values()),
        "lowest_contrast": min(f["lowest_contrast"]["ratio"] for f in FIGURES.values()),
        "smallest_target_px": min(
            min(f["smallest_target"]["width"], f["smallest_target"]["height"])
            for f in FIGURES.values()
        ),
        "closest_targets_px": min(
            f["closest_targets"]["gap"] for f in FIGURES.values()
        ),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "accessibility.json").write_text(
        json.dumps({"worst": worst, "screens": FIGURES}, indent=2), encoding="utf-8"
    )


def launch(playwright, *extra: str):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: scripts/bootstrap.sh installs it")
    return playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=["--autoplay-policy=no-user-gesture-required", *extra],
    )


@pytest.fixture(scope="module")
def playwright():
    with playwright_api.sync_playwright() as running:
        yield running


@pytest.fixture(scope="module")
def browser(playwright):
    """Chromium from Debian, driven by Playwright; no browser is downloaded."""
    launched = launch(playwright)
    yield launched
    launched.close()


def audit(page, screen: str) -> dict:
    """Measure the screen as it is, keep the figures, and hold it to the rules."""
    found = page.evaluate(AUDIT)
    FIGURES[screen] = found
    assert found["unnamed"] == [], found["unnamed"]
    assert not found["overflow"], f"{screen}: wider than the screen"
    assert found["smallest_text"]["size"] >= 24, found["smallest_text"]
    assert found["lowest_contrast"]["ratio"] >= 7, found["lowest_contrast"]
    smallest = found["smallest_target"]
    assert min(smallest["width"], smallest["height"]) >= 64, smallest
    assert found["closest_targets"]["gap"] >= 8, found["closest_targets"]
    return found


def screenshot(page, name: str) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(RESULTS / f"{name}.png"))


def new_resident(stack, name: str) -> tuple[str, str]:
    """A signed-up resident on the stack's store: their id and phone."""
    phone = f"+4477009{next(_numbers):05d}"
    db = stack.db()
    resident = add_resident(db, phone, name, "4 Park Road, Anytown AB1 2CD")
    db.close()
    return resident.id, phone


def paired_context(browser, stack, resident_id: str, viewport=LANDSCAPE):
    """A browser context holding a tablet token for the resident."""
    db = stack.db()
    _, token = pair_directly(db, resident_id, "test tablet")
    db.close()
    context = browser.new_context(viewport=viewport, device_scale_factor=1)
    context.add_cookies(
        [{"name": DEVICE_COOKIE, "value": token, "url": stack.base_url}]
    )
    return context


def open_tablet(context, stack):
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(stack.base_url + "/")
    expect(page.locator("#app")).to_be_visible()
    page.errors = errors
    return page


def reply_box(page):
    return page.locator("#reply-text")


def test_tablet_browser_pairs_with_a_code_and_unpairing_shuts_it_out(browser, stack):
    """Test that an unpaired tablet shows only how to pair, a coordinator's
    code pairs it, and once unpaired it shows nobody's data again, even after
    a reload."""
    resident_id, _ = new_resident(stack, "Edna Pair")
    db = stack.db()
    set_quantity(db, resident_id, "soup-tomato-400g", 3)
    code = new_pairing_code(db, resident_id)
    db.close()
    context = browser.new_context(viewport=LANDSCAPE, device_scale_factor=1)
    page = context.new_page()
    page.goto(stack.base_url + "/")

    expect(page.locator("#unpaired")).to_be_visible()
    expect(page.locator("#demo")).to_be_hidden()  # not a local trial
    assert "Edna" not in page.content()
    audit(page, "unpaired")
    screenshot(page, "1-unpaired")

    page.get_by_label("Set-up code").fill("000 000" if code.code != "000000" else "1")
    page.get_by_role("button", name="Set up this tablet").click()
    expect(page.locator("#pair-said")).to_contain_text("didn't work")
    audit(page, "unpaired-wrong-code")
    page.get_by_label("Set-up code").fill(code.spaced)
    page.get_by_role("button", name="Set up this tablet").click()
    expect(page.locator("#hello")).to_have_text("Hello, Edna")
    expect(page.locator("#basket-lines")).to_contain_text("Cream of Tomato Soup")

    token = next(c["value"] for c in context.cookies() if c["name"] == DEVICE_COOKIE)
    db = stack.db()
    unpair_device(db, device_for_token(db, token).id)
    db.close()
    expect(page.locator("#unpaired")).to_be_visible(timeout=LIVE_MS)
    assert "Tomato" not in page.locator("body").inner_text()
    page.reload()
    expect(page.locator("#unpaired")).to_be_visible()
    assert "Edna" not in page.content()
    context.close()


def test_tablet_browser_shopping_by_touch(browser, stack):
    """Test the whole shop by touch alone: add from an aisle, change quantities
    with + and -, hear the basket read back, place the order with a Yes, and
    ask for a person, who answers on the tablet; a reload keeps the screen."""
    resident_id, _ = new_resident(stack, "Mabel Touch")
    context = paired_context(browser, stack, resident_id)
    page = open_tablet(context, stack)
    speech: list[str] = []
    page.on(
        "response",
        lambda r: (
            speech.append(r.headers.get("content-type", ""))
            if "/tablet/api/speech/" in r.url and r.status == 200
            else None
        ),
    )
    expect(page.locator("#hello")).to_have_text("Hello, Mabel")
    expect(page.locator("#basket-empty")).to_be_visible()
    audit(page, "main-empty")
    screenshot(page, "2-main-empty-basket")

    page.get_by_role("button", name="Dairy & Eggs").click()
    first = page.locator("#products .product").first
    expect(first).to_be_visible()
    name = first.locator(".name").inner_text()
    audit(page, "aisle")
    first.locator("button.add").click()
    line = page.locator("#basket-lines .line").first
    expect(line).to_contain_text(name)
    expect(line.locator(".quantity")).to_have_text("1")
    expect(reply_box(page)).to_contain_text(f"Added 1 {name}")
    expect(first.locator(".in-basket")).to_have_text("1 in your basket")
    screenshot(page, "3-aisle-added")

    page.get_by_role("button", name=re.compile(r"^One more ")).first.click()
    page.get_by_role("button", name=re.compile(r"^One more ")).first.click()
    expect(line.locator(".quantity")).to_have_text("3")
    expect(reply_box(page)).to_contain_text("You have 3 now")
    page.get_by_role("button", name=re.compile(r"^One less ")).first.click()
    expect(line.locator(".quantity")).to_have_text("2")
    expect(reply_box(page)).to_contain_text("You have 2 now")
    db = stack.db()
    assert [
        (each.product.name, each.quantity) for each in basket_lines(db, resident_id)
    ] == [(name, 2)]
    db.close()
    audit(page, "basket-with-a-line")

    page.get_by_role("button", name="Read my basket").click()
    expect(reply_box(page)).to_contain_text("In your basket", timeout=ANSWER_MS)
    expect(reply_box(page)).to_contain_text(name)
    expect(page.locator("#again")).to_be_visible()

    page.reload()
    expect(reply_box(page)).to_contain_text("In your basket")
    expect(page.locator("#basket-lines .line .quantity")).to_have_text("2")
    expect(page.locator("#caption")).to_contain_text("read my basket", ignore_case=True)

    page.get_by_role("button", name="Place my order").click()
    answers = page.locator("#answers")
    expect(answers.get_by_role("button", name="Yes")).to_be_visible(timeout=ANSWER_MS)
    expect(reply_box(page)).to_contain_text("Shall I place this order")
    audit(page, "question-yes-or-no")
    screenshot(page, "4-shall-i-place-the-order")
    answers.get_by_role("button", name="Yes").click()
    expect(reply_box(page)).to_contain_text("is placed", timeout=ANSWER_MS)
    expect(page.locator("#basket-empty")).to_be_visible(timeout=LIVE_MS)
    screenshot(page, "5-order-placed")
    db = stack.db()
    order = latest_order(db, resident_id)
    assert order is not None and order.item_count == 2
    db.close()

    page.get_by_role("button", name="Talk to a person").click()
    expect(reply_box(page)).to_contain_text("volunteer", timeout=ANSWER_MS)
    expect(page.locator("#person")).to_be_visible()
    db = stack.db()
    handoff = active_handoff(db, resident_id)
    assert handoff is not None and handoff.channel == "tablet"
    volunteer = add_volunteer(
        db, f"tabletsue{next(_numbers)}", "Sue", "a long password"
    )
    router = ConversationRouter(db, None, load_settings(stack.env))
    reply = router.send_from_volunteer(
        get_resident(db, resident_id), "Hello Mabel, it's Sue.", volunteer.id
    )
    # Playwright's sync API holds this thread's event loop: run it in another.
    with ThreadPoolExecutor(1) as elsewhere:
        elsewhere.submit(asyncio.run, reply).result()
    db.close()
    expect(page.locator("#reply-who")).to_have_text("Sue, a volunteer", timeout=LIVE_MS)
    expect(reply_box(page)).to_have_text("Hello Mabel, it's Sue.")
    audit(page, "volunteer-message")
    screenshot(page, "6-a-volunteer-answers")
    assert speech and all(kind == "audio/wav" for kind in speech)
    assert page.errors == []

    db = stack.db()
    end_handoff(db, handoff.id, "closed")
    remove_volunteer(db, volunteer.id)
    db.close()
    context.close()


@pytest.mark.parametrize(
    "viewport",
    [LANDSCAPE, PORTRAIT, ZOOMED, ZOOMED_PORTRAIT],
    ids=["landscape", "portrait", "landscape-200pc", "portrait-200pc"],
)
def test_tablet_browser_fits_every_screen(browser, stack, viewport):
    """Test that in portrait, landscape and at 200% zoom nothing is wider than
    the screen, the three big actions are in view, and the rules hold."""
    resident_id, _ = new_resident(stack, "Ivy Screens")
    db = stack.db()
    for sku in ("soup-tomato-400g", "beans-baked-400g", "air-freshener-300ml"):
        set_quantity(db, resident_id, sku, 2)
    db.close()
    context = paired_context(browser, stack, resident_id, viewport)
    page = open_tablet(context, stack)
    lines = page.locator("#basket-lines .line")
    expect(lines.first).to_be_visible()
    shown = lines.count()
    if shown < 3:  # beside the conversation, the basket pages what doesn't fit
        page.get_by_role("button", name="Next page of your basket").click()
        expect(lines).to_have_count(min(shown, 3 - shown))
        page.get_by_role("button", name="Previous page of your basket").click()
    for label in ("Read my basket", "Place my order", "Talk to a person"):
        expect(page.get_by_role("button", name=label)).to_be_in_viewport()
    name = f"{viewport['width']}x{viewport['height']}"
    audit(page, f"main-{name}")
    screenshot(page, f"7-main-{name}")
    page.get_by_role("button", name="Tins & Jars").click()
    expect(page.locator("#products .product").first).to_be_visible()
    page.locator("#products").scroll_into_view_if_needed()
    audit(page, f"aisle-{name}")
    context.close()


def test_tablet_browser_offline_keeps_what_was_tapped(browser, stack):
    """Test that offline the page says so plainly, keeps the taps, and sends
    them when the connection is back."""
    resident_id, _ = new_resident(stack, "Olive Offline")
    db = stack.db()
    set_quantity(db, resident_id, "soup-tomato-400g", 1)
    db.close()
    context = paired_context(browser, stack, resident_id)
    page = open_tablet(context, stack)
    expect(page.locator("#basket-lines .line")).to_have_count(1)

    context.set_offline(True)
    page.get_by_role("button", name=re.compile(r"^One more ")).click()
    banner = page.locator("#connection")
    expect(banner).to_be_visible(timeout=LIVE_MS)
    expect(banner).to_contain_text("No connection")
    expect(banner).to_contain_text("keeping what you tapped")
    expect(page.locator("#basket-lines .quantity")).to_have_text("2")
    expect(page.locator("#basket-lines .line-total")).to_have_text("£1.40")
    expect(page.locator("#basket-total")).to_have_text("£1.40")
    audit(page, "offline")
    screenshot(page, "8-offline")

    context.set_offline(False)
    expect(banner).to_be_hidden(timeout=LIVE_MS * 3)
    expect(reply_box(page)).to_contain_text("You have 2 now", timeout=LIVE_MS)
    db = stack.db()
    assert [line.quantity for line in basket_lines(db, resident_id)] == [2]
    db.close()
    context.close()


def test_tablet_browser_shows_residents_words_as_text(browser, stack):
    """Test that words stored for a resident are shown as text, never as HTML."""
    resident_id, _ = new_resident(stack, "Rose <b>Markup</b>")
    db = stack.db()
    record_inbound(db, "sms", None, resident_id, "<img src=x onerror=alert(1)> soup")
    record_outbound(db, resident_id, "sms", "<i>Added</i> & done")
    db.close()
    context = paired_context(browser, stack, resident_id)
    page = open_tablet(context, stack)
    expect(page.locator("#hello")).to_have_text("Hello, Rose")
    expect(page.locator("#heard")).to_have_text("<img src=x onerror=alert(1)> soup")
    expect(reply_box(page)).to_have_text("<i>Added</i> & done")
    assert page.locator("#app img, #app i, #app b").count() == 0
    assert page.errors == []
    context.close()


@pytest.fixture(scope="module")
def spoken_request(stack, tmp_path_factory) -> Path:
    """A WAV of our own speech engine saying the sentence, with two seconds of
    quiet before it and after, for Chromium's fake microphone."""
    folder = tmp_path_factory.mktemp("fake-microphone")
    synthesis = Synthesiser(folder / "spoken", VoiceSettings())
    for attempt in range(4):
        try:
            speech = synthesis.speak(SPOKEN_SENTENCE)
            break
        except SynthesisError:
            # pyttsx3's espeak driver now and then returns before writing.
            if attempt == 3:
                raise
    # NOTE: the file starts playing when the page opens the microphone, not
    # when the page says it is listening: the quiet before the words covers
    # the page's start-up on a busy machine, as a person waits for the sign.
    second = b"\0\0" * SPEECH_RATE
    path = folder / "add-two-tins-of-tomato-soup.wav"
    path.write_bytes(
        write_wav(second * 2 + speech.for_tablet() + second * 2, SPEECH_RATE)
    )
    return path


@pytest.fixture
def listening_browser(playwright, spoken_request):
    """A browser of its own whose fake microphone plays the file once, from
    the first time a page opens the microphone."""
    launched = launch(
        playwright,
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={spoken_request}%noloop",
    )
    yield launched
    launched.close()


def test_tablet_browser_voice_adds_two_tins_of_tomato_soup(stack, listening_browser):
    """Test speech end to end: Chromium's fake microphone says "add two tins of
    tomato soup"; captions come while it is being said, and the line is in
    the basket on screen, with the reply spoken."""
    resident_id, _ = new_resident(stack, "Vera Voice")
    context = paired_context(listening_browser, stack, resident_id)
    context.grant_permissions(["microphone"], origin=stack.base_url)
    page = open_tablet(context, stack)
    frames: list[dict] = []
    sent_bytes: list[int] = []

    def watch(socket) -> None:
        socket.on(
            "framereceived",
            lambda payload: (
                frames.append(json.loads(payload)) if isinstance(payload, str) else None
            ),
        )
        socket.on(
            "framesent",
            lambda payload: (
                sent_bytes.append(len(payload)) if isinstance(payload, bytes) else None
            ),
        )

    page.on("websocket", watch)
    try:
        page.get_by_role("button", name="Tap to talk").click()
        expect(page.locator("#mic")).to_have_attribute(
            "data-state", "listening", timeout=LIVE_MS
        )
        expect(page.locator("#caption")).to_be_visible(timeout=LIVE_MS)
        audit(page, "listening")
        screenshot(page, "9-listening-with-captions")

        line = page.locator("#basket-lines .line", has_text="Cream of Tomato Soup")
        expect(line).to_be_visible(timeout=VOICE_MS)
        expect(line.locator(".quantity")).to_have_text("2")
        expect(page.locator("#mic")).to_have_attribute("data-state", "idle")
        screenshot(page, "10-heard-and-added")
        audit(page, "after-voice")
    finally:
        # What was heard, kept whatever happened, for a person to look at.
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "voice.json").write_text(
            json.dumps([f for f in frames if f["type"] != "reply"], indent=2),
            encoding="utf-8",
        )

    kinds = [frame["type"] for frame in frames]
    heard = next(f["text"] for f in frames if f["type"] == "heard")
    assert "partial" in kinds and kinds.index("partial") < kinds.index("heard")
    assert heard == SPOKEN_SENTENCE, f"pocketsphinx heard {heard!r}"
    assert sent_bytes and max(sent_bytes) == 3200  # 100 ms of 16 kHz PCM
    reply = next(f for f in frames if f["type"] == "reply")
    assert reply["speech_url"]
    db = stack.db()
    assert [
        (each.product.sku, each.quantity) for each in basket_lines(db, resident_id)
    ] == [("soup-tomato-400g", 2)]
    db.close()
    assert page.errors == []
    context.close()
