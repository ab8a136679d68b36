"""The tablet benchmark's section of docs/benchmarks.md."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bench.nlu_render import table
from bench.tablet_browser import SLOW_3G, UNTHROTTLED
from bench.tablet_voice import CHUNK_SECONDS, LEAD_IN_SECONDS, ORDERS, VOICES

if TYPE_CHECKING:
    from bench.tablet import TabletFigures
    from bench.tablet_voice import SpokenTurn

NETWORKS = (UNTHROTTLED, SLOW_3G)


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    cut = statistics.quantiles(ordered, n=100, method="inclusive")
    return cut[round(share * 100) - 1]


def spread(values: Sequence[float | None], unit: float = 1.0, digits: int = 0) -> str:
    """ "median / p95 / max" of the values present, scaled by `unit`."""
    present = [value * unit for value in values if value is not None]
    if not present:
        return "-"
    figures = (
        statistics.median(present),
        percentile(present, 0.95),
        max(present),
    )
    return " / ".join(f"{figure:,.{digits}f}" for figure in figures)


def kb(count: float) -> str:
    return f"{count / 1024:,.1f} KB"


def weight_section(figures: TabletFigures) -> list[str]:
    weight = figures.browser.weight
    if weight is None:
        return []
    base = "http://127.0.0.1"
    rows = []
    for resource in weight.resources:
        path = "/" + resource.url.split("/", 3)[-1] if base in resource.url else "-"
        gzipped = weight.gzip_bytes.get(path)
        rows.append(
            [
                f"`{path}`",
                resource.kind,
                str(resource.status),
                f"{resource.body_bytes:,}",
                f"{resource.header_bytes:,}",
                resource.encoding or "none",
                "-" if gzipped is None else f"{gzipped:,}",
            ]
        )
    body = sum(each.body_bytes for each in weight.resources)
    headers = sum(each.header_bytes for each in weight.resources)
    compressed = [each for each in weight.resources if each.encoding]
    static = [each for each in weight.resources if "/tablet/api/" not in each.url]
    static_body = sum(each.body_bytes for each in static)
    static_gzip = sum(weight.gzip_bytes.values())
    if compressed:
        compression = f"{len(compressed)} of them came compressed."
    else:
        compression = (
            "The gateway compresses nothing: gzip (level 6) would bring the "
            f"page and its static files from {kb(static_body)} to "
            f"{kb(static_gzip)}."
        )
    return [
        "### Page weight",
        "",
        f"One cold load of a paired tablet's page made {len(weight.resources)} "
        f"requests: {kb(body)} of bodies and {kb(headers)} of headers "
        f"({kb(body + headers)} in all), with no fonts or images (the icon is "
        "an inline SVG, the favicon a `data:` URL). Sizes are as received "
        "(Playwright's `request.sizes()`, encoded bytes). " + compression,
        "",
        table(
            [
                "Request",
                "type",
                "status",
                "body bytes",
                "header bytes",
                "encoding",
                "gzip would be",
            ],
            rows,
        ),
        "",
    ]


LOAD_ROWS = (
    ("First contentful paint (the loading screen)", "first_contentful_paint"),
    ("DOMContentLoaded (end)", "dom_content_loaded"),
    ("load (end)", "load"),
    ("App shown with basket lines and microphone (DOM)", "shown"),
    ("... and painted (next frame)", "painted"),
)


def load_section(figures: TabletFigures) -> list[str]:
    loads = figures.browser.loads
    counts = {label: len(each) for label, each in loads.items()}

    def row(label: str, name: str) -> list[str]:
        return [
            label,
            *(
                spread([getattr(load, name) for load in loads.get(n.label, [])])
                for n in NETWORKS
            ),
        ]

    requests = {
        label: Counter(load.requests for load in each).most_common(1)[0][0]
        for label, each in loads.items()
        if each
    }
    return [
        "### Page load in headless Chromium",
        "",
        f"Cold loads (a new browser context each time: no cache, no stored "
        f"state) of a paired tablet's page with three basket lines, in "
        f"milliseconds from the start of navigation, read from the page's "
        f"Navigation and Paint Timing entries; *app shown* is when an init "
        f"script's MutationObserver first sees the app screen with its "
        f"basket lines and microphone, *painted* the first animation frame "
        f"after it. {counts.get(UNTHROTTLED.label, 0)} loads "
        f"{UNTHROTTLED.describe()}, {counts.get(SLOW_3G.label, 0)} on "
        f"{SLOW_3G.describe()}, set with CDP "
        f"`Network.emulateNetworkConditions`. Each load made "
        f"{requests.get(UNTHROTTLED.label, '-')} requests unthrottled and "
        f"{requests.get(SLOW_3G.label, '-')} on slow 3G (most often) before "
        "the app was painted.",
        "",
        table(
            ["ms, median / p95 / max", *(n.label for n in NETWORKS)],
            [row(label, name) for label, name in LOAD_ROWS],
        ),
        "",
    ]


def tap_section(figures: TabletFigures) -> list[str]:
    taps = figures.browser.taps
    rows = []
    for network in NETWORKS:
        done = taps.get(network.label, [])
        for kind in sorted({tap.kind for tap in done}):
            mine = [tap for tap in done if tap.kind == kind]
            rows.append(
                [
                    network.label,
                    kind,
                    str(len(mine)),
                    spread([tap.shown_ms for tap in mine], digits=1),
                    spread([tap.answered_ms for tap in mine]),
                    str(sum(tap.answered_ms is None for tap in mine)),
                    str(sum(not tap.as_expected for tap in mine)),
                ]
            )
    speech = figures.browser.speech_bytes
    speech_note = ""
    if speech:
        middle = statistics.median(speech)
        speech_note = (
            f" Each answer also brings its speech, which the page fetches and "
            f"plays: a median of {kb(middle)} of WAV (16 kHz), "
            f"{middle / SLOW_3G.down_bytes_per_second:.1f} s of download on "
            "slow 3G, which the next tap's request shares the line with."
        )
    return [
        "### A tap",
        "",
        "A paired tablet (touch enabled) taps + on its first basket line, "
        "then Add on the first product of the Tins & Jars aisle, waiting for "
        "each answer and a further second before the next tap. Timed on the "
        "page's clock from the tap's click event (`event.timeStamp`) to the "
        "new quantity in the basket on screen (the page changes it before it "
        "asks the gateway) and to the gateway's answer shown in words (the "
        'reply box going from "Just a moment" to, say, "You have 3 now"), '
        "which is when the basket on screen is the stored one. The answer is "
        "a `POST /tablet/api/basket`: the quantity is set "
        "in the store and the words made; no Rasa turn." + speech_note,
        "",
        table(
            [
                "network",
                "tap",
                "taps",
                "quantity shown, ms",
                "answer shown, ms",
                "no answer in 30 s",
                "answer not the quantity tapped for",
            ],
            rows,
        ),
        "",
        "Times are median / p95 / max. *Answer not the quantity tapped for* "
        "counts answers that did not name the quantity the tap meant (one "
        "more than the basket on screen showed before it): the basket the "
        "resident saw was not the stored one.",
        "",
    ]


def parts_table(turns: Sequence[SpokenTurn]) -> str:
    rows = [
        (
            "First caption (`partial`; below zero: while still speaking)",
            lambda t: t.since_speech(t.first_partial),
        ),
        (
            "First caption, from the first speech chunk sent",
            lambda t: (
                None
                if t.first_partial is None or not t.speech_started
                else t.first_partial - t.speech_started
            ),
        ),
        ("Final text (`heard`)", lambda t: t.since_speech(t.heard)),
        ("Reply's text (`reply`)", lambda t: t.since_speech(t.reply)),
        ("Reply's audio fetched (WAV, whole)", lambda t: t.since_speech(t.audio)),
        (
            "`heard` to `reply` (the turn: router, Rasa, actions)",
            lambda t: None if t.heard is None or t.reply is None else t.reply - t.heard,
        ),
        (
            "`reply` to its audio (speech made, fetched)",
            lambda t: None if t.audio is None or t.reply is None else t.audio - t.reply,
        ),
    ]
    return table(
        ["seconds from the last speech chunk sent", "median / p95 / max", "turns"],
        [
            [
                label,
                spread([part(t) for t in turns], digits=2),
                str(sum(part(t) is not None for t in turns)),
            ]
            for label, part in rows
        ],
    )


def orders_table(figures: TabletFigures) -> str:
    typed = {turn.order.text: turn for turn in figures.typed}
    rows = []
    for order in ORDERS:
        mine = [t for t in figures.turns if t.recording.order == order]
        misheard = sorted(
            {f'"{t.heard_text or "(nothing)"}"' for t in mine if not t.heard_right}
        )
        rows.append(
            [
                f'"{order.text}" (+{order.quantity} `{order.sku}`)',
                "yes"
                if order.text in typed and typed[order.text].right_change
                else "no",
                f"{sum(t.heard_right for t in mine)} of {len(mine)}",
                f"{sum(t.right_change for t in mine)} of {len(mine)}",
                "; ".join(misheard) or "-",
            ]
        )
    return table(
        [
            "order",
            "typed: right change",
            "heard word for word",
            "right basket change",
            "misheard as",
        ],
        rows,
    )


def voice_section(figures: TabletFigures) -> list[str]:
    turns = figures.turns
    seconds = [t.recording.seconds for t in turns]
    right = sum(t.right_change for t in turns)
    heard = sum(t.heard_right for t in turns)
    errors = Counter(t.error for t in turns if t.error)
    typed_right = sum(t.right_change for t in figures.typed)
    error_note = (
        " Failed turns: "
        + ", ".join(f"{count} {kind}" for kind, count in errors.items())
        + "."
        if errors
        else ""
    )
    warm = figures.warm_up.since_speech(figures.warm_up.reply)
    warm_note = (
        f" A first turn, not counted, woke the speech engines and Rasa "
        f"({warm:.1f} s from the last speech to the reply)."
        if warm is not None
        else ""
    )
    voices = "; ".join(label for label, _ in VOICES)
    return [
        "### A spoken turn over WS /tablet",
        "",
        f"{len(ORDERS)} orders, each said by our own text to speech "
        f"(`voice.speech.Synthesiser`, espeak-ng) in {len(VOICES)} voices "
        f"({voices}), {len(turns)} turns, each by a newly paired resident "
        f"with an empty basket (speech {min(seconds):.1f} to "
        f"{max(seconds):.1f} s long). A client in this process plays the "
        "tablet: it opens `WS /tablet` with the device cookie and the "
        "page's Origin, sends `listen`, waits for `listening`, then sends "
        f"16 kHz 16-bit PCM in {CHUNK_SECONDS * 1000:.0f} ms chunks on the "
        f"clock: {LEAD_IN_SECONDS} s of quiet, the words, then quiet until "
        "`heard` comes (the page stops its microphone then). Times run from "
        "the send of the last chunk holding speech (above the endpointer's "
        "energy floor) to each frame's arrival, and to the end of a `GET` of "
        "the reply's `speech_url`. The gateway exposes no timings of its "
        "own, so the parts are the gaps between what the tablet receives. "
        f"Recogniser: {figures.engine}." + warm_note + error_note,
        "",
        parts_table(turns),
        "",
        f"**Recognised to the right basket change: {right} of {len(turns)}** "
        f"(heard word for word: {heard} of {len(turns)}). As a control, the "
        "same orders typed (`POST /tablet/api/say`, a new resident each) made "
        f"the right change {typed_right} of {len(figures.typed)} times, in "
        f"{spread([t.seconds for t in figures.typed], digits=2)} s. A right "
        "change is exactly the product and quantity ordered and nothing else.",
        "",
        orders_table(figures),
        "",
    ]


def memory_section(figures: TabletFigures) -> list[str]:
    rows = [
        [name, f"{each.get('VmHWM', 0):.0f}", f"{each.get('VmRSS', 0):.0f}"]
        for name, each in figures.memory.items()
    ]
    chromium = figures.browser.chromium_memory
    rows += [
        [f"Chromium, {kind} process(es)", f"{peak:.0f}", "-"]
        for kind, peak in sorted(chromium.items())
    ]
    if chromium:
        rows.append(["Chromium, all", f"{sum(chromium.values()):.0f}", "-"])
    return [
        "### Memory",
        "",
        "Peak resident memory (VmHWM in `/proc/PID/status`, MB) of the "
        "stack's processes after every run above, with their resident memory "
        "then (VmRSS); Chromium's by process type, summed over the processes "
        "of each type (an overstatement: they share pages), read with the tap "
        f"page still open (Chromium "
        f"{figures.browser.version}).",
        "",
        table(["process", "peak (VmHWM), MB", "now (VmRSS), MB"], rows),
        "",
    ]


def render(figures: TabletFigures) -> str:
    """The Markdown body of this benchmark's section of docs/benchmarks.md."""
    parts = [
        "The whole stack as `helping-hands run` starts it (gateway, Rasa "
        "server, action server) on a fresh data folder, and Debian's Chromium "
        "headless, driven by Playwright, on the same machine. Every tablet is "
        "paired as a coordinator pairs one: a one-time code, traded at "
        "`POST /tablet/api/pair` for the device token in the page's cookie. "
        + figures.model_note,
        "",
        *weight_section(figures),
        *load_section(figures),
        *tap_section(figures),
        *voice_section(figures),
        *memory_section(figures),
        "Not measured: many tablets at once (one resident has one tablet; "
        "the load benchmarks cover many residents), a real tablet's slower "
        "CPU, and Wi-Fi's lost packets (CDP emulates latency and bandwidth "
        "only).",
    ]
    return "\n".join(parts) + "\n"
