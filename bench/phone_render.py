"""The phone benchmark's section of docs/benchmarks.md."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bench.nlu_render import table
from bench.phone_accuracy import GENERIC_CALLS, AccuracyResult, Tally
from bench.phone_live import (
    CALLER,
    LEVEL_SECONDS,
    SCRIPT,
    STAGGER_SECONDS,
    THINKING_SECONDS,
    TimedTurn,
    percentile,
    sustained_backlog,
    timed_turns,
)
from bench.phone_recognition import CALL_LENGTH, GAP_SECONDS
from bench.phone_utterances import SPEAKERS
from voice.endpointing import Endpointing
from voice.scoring import word_errors

if TYPE_CHECKING:
    from bench.phone_calls import Level, PhoneFigures

LATENCY_AIM_SECONDS = 1.0
CALLS_AIM = 10
# A gateway keeps up if no call's frames stay this late for three seconds on end.
BACKLOG_LIMIT_SECONDS = 0.25


def percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "-"


def ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.0f}"


def seconds_text(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def middle(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def p95(values: Sequence[float]) -> float | None:
    return percentile(values, 0.95) if values else None


def scores(tally: Tally) -> list[str]:
    return [
        f"{100 * tally.word_error_rate:.0f}%",
        percent(tally.same_intent, tally.recordings),
        percent(tally.handed_off, tally.recordings),
        percent(tally.nothing_heard, tally.recordings),
    ]


def accuracy_section(result: AccuracyResult) -> str:
    utterances = result.utterances
    sources = Counter(each.source for each in utterances)
    generic = result.tally("generic", SPEAKERS, generic_part=True)
    domain_same = result.tally("domain", SPEAKERS, generic_part=True)
    domain = result.tally("domain", SPEAKERS)
    said_intents = [result.intents[each.text] for each in utterances]
    labelled = [
        result.intents[each.text] == each.labelled_intent for each in utterances
    ]
    said_handoffs = sum(
        intent in {"nlu_fallback", "out_of_scope"} for intent in said_intents
    )
    parts = [
        "### Speech to intent",
        "",
        f"{len(utterances)} utterances: {sources['test story']} user messages of "
        f"the NLU test stories (`nlu/tests/`, not in the training data), "
        f"{sources['phone phrase']} short phone phrases and "
        f"{sources['catalogue']} orders for catalogue products "
        f"({len(result.in_corpus)} of them are in the domain model's corpus "
        "word for word). Each is said at both paces, the voices taking turns, "
        "by our text to speech (`voice.speech.Synthesiser`, espeak-ng), turned "
        "into 8 kHz mu-law by `Speech.for_phone()`, and heard as the gateway "
        "hears a media stream: 20 ms frames, mu-law decoded and raised to "
        "16 kHz by one `Resampler` per call, handed to the recogniser 1,600 "
        f"bytes at a time, {CALL_LENGTH} utterances to a call, "
        f"{GAP_SECONDS} s of quiet after each. Recognisers: "
        "`voice.engines.load_pocketsphinx` with the domain model and without "
        "it (generic). The generic model, about five times slower, hears the "
        f"first {GENERIC_CALLS} calls of each speaker; the domain model hears "
        "those and the rest. The served Rasa model parses what was said and "
        "what was heard (`POST /model/parse`); *intent as said* is the share "
        "whose heard intent is the said one's; *handed off* are those parsed "
        "as `nlu_fallback` or `out_of_scope` (both lead to "
        "`action_not_understood`); *nothing heard* got no words (the gateway "
        "waits, then reprompts).",
        "",
        table(
            ["", "Generic", "Domain, same recordings", "Domain, all recordings"],
            [
                [
                    "Recordings",
                    str(generic.recordings),
                    str(domain_same.recordings),
                    str(domain.recordings),
                ],
                [
                    "Word error rate",
                    *[
                        f"{100 * t.word_error_rate:.0f}%"
                        for t in (generic, domain_same, domain)
                    ],
                ],
                [
                    "Heard word for word",
                    *[
                        percent(t.exact, t.recordings)
                        for t in (generic, domain_same, domain)
                    ],
                ],
                [
                    "Intent as said",
                    *[
                        percent(t.same_intent, t.recordings)
                        for t in (generic, domain_same, domain)
                    ],
                ],
                [
                    "Handed off (`nlu_fallback`, `out_of_scope`)",
                    *[
                        percent(t.handed_off, t.recordings)
                        for t in (generic, domain_same, domain)
                    ],
                ],
                [
                    "Handed off though what was said is not",
                    *[
                        percent(t.wrongly_handed_off, t.recordings)
                        for t in (generic, domain_same, domain)
                    ],
                ],
                [
                    "Nothing heard",
                    *[
                        percent(t.nothing_heard, t.recordings)
                        for t in (generic, domain_same, domain)
                    ],
                ],
                [
                    "Decoded twice (cepstral mean moved)",
                    *[
                        percent(t.second_passes, t.recordings)
                        for t in (generic, domain_same, domain)
                    ],
                ],
                [
                    "End of utterance: recogniser's last chunk, median / p95 ms",
                    *[
                        f"{ms(middle(t.final_decodes))} / {ms(p95(t.final_decodes))}"
                        for t in (generic, domain_same, domain)
                    ],
                ],
            ],
        ),  # fmt: skip
        "",
        f"What was said, parsed as text: {sum(labelled)} of {len(utterances)} "
        f"get the intent their source gives them; {said_handoffs} "
        f"({percent(said_handoffs, len(utterances))}) are handed off.",
        "",
        "By speaker, on the recordings both models heard "
        "(word error rate, intent as said, handed off, nothing heard):",
        "",
    ]
    rows = []
    for speaker in SPEAKERS:
        first = result.tally("generic", [speaker], generic_part=True)
        second = result.tally("domain", [speaker], generic_part=True)
        pairs = zip(scores(first), scores(second), strict=True)
        rows.append(
            [speaker.label, str(first.recordings), *[f"{a} / {b}" for a, b in pairs]]
        )
    parts += [
        table(
            [
                "Speaker (espeak-ng)",
                "Recordings",
                "WER generic / domain",
                "Intent generic / domain",
                "Handed off generic / domain",
                "Nothing heard generic / domain",
            ],
            rows,
        ),  # fmt: skip
        "",
        "The domain model on all its recordings, by pace, voice and source:",
        "",
    ]
    groups = []
    for rate in sorted({each.words_per_minute for each in SPEAKERS}):
        chosen = [each for each in SPEAKERS if each.words_per_minute == rate]
        groups.append((f"{rate} wpm, every voice", result.tally("domain", chosen)))
    for voice in dict.fromkeys(each.voice for each in SPEAKERS):
        chosen = [each for each in SPEAKERS if each.voice == voice]
        groups.append((f"`{voice}`, both paces", result.tally("domain", chosen)))
    for source in sources:
        groups.append((f"{source}s", result.tally("domain", SPEAKERS, source=source)))
    parts += [
        table(
            [
                "Recordings of",
                "Count",
                "WER",
                "Intent as said",
                "Handed off",
                "Nothing heard",
            ],
            [[label, str(t.recordings), *scores(t)] for label, t in groups],
        ),  # fmt: skip
        "",
        "Commonest intent changes, domain model (said as, heard as): "
        + ", ".join(
            f"`{said}` as `{heard}` ({count})"
            for (said, heard), count in domain.confusions.most_common(6)
        )
        + ".",
    ]
    return "\n".join(parts)


LATENCY_PARTS = (
    ("end of utterance", "end of utterance: from the last speech frame sent "
     "to the gateway taking the frame that ends the utterance"),
    ("waiting for a thread", "waiting for a thread (asyncio.to_thread)"),
    ("recognition", "recognition of the last chunk (decoder end, second pass)"),
    ("handing over", "back on the event loop"),
    ("assistant", "assistant: PhoneConversation.take"),
    ("Rasa (within the assistant)", "&nbsp;&nbsp;of which Rasa's REST turn "
     "(Rasa and actions)"),
    ("reply made speakable", "reply turned into speakable text"),
    ("speech synthesis", "speech synthesis (Synthesiser.speak, for_phone)"),
    ("worker process (within synthesis)", "&nbsp;&nbsp;of which the "
     "text-to-speech worker process"),
    ("sending", "reply frames sent up to the first"),
    ("delivery", "first frame across the WebSocket"),
)  # fmt: skip


def latency_rows(turns: Sequence[TimedTurn]) -> list[list[str]]:
    answered = [each for each in turns if each.answered]
    totals = [each.turn.latency for each in answered]
    rows = [
        ["**whole turn: last speech frame sent to first reply frame received**",
         f"**{ms(middle(totals))}**", f"**{ms(p95(totals))}**",
         f"**{ms(statistics.fmean(totals)) if totals else '-'}**"],
    ]  # fmt: skip
    split = [each.parts() for each in answered]
    for key, label in LATENCY_PARTS:
        values = [parts[key] for parts in split]
        mean = statistics.fmean(values) if values else None
        rows.append([label, ms(middle(values)), ms(p95(values)), ms(mean)])
    return rows


def latency_section(figures: PhoneFigures) -> str:
    turns = timed_turns(figures.latency_calls, figures.timings)
    answered = [each for each in turns if each.answered]
    totals = [each.turn.latency for each in answered]
    exact = sum(
        word_errors(each.turn.said, each.gateway["heard"])[0] == 0 for each in answered
    )
    workers = sum(bool(each.gateway.get("worker_seconds")) for each in answered)
    under = sum(total < LATENCY_AIM_SECONDS for total in totals)
    median = middle(totals)
    silence = Endpointing().end_silence_seconds
    return "\n".join(
        [
            "### A turn's latency, one call at a time",
            "",
            f"Calls one after another ({len(figures.latency_calls)} calls, "
            f"{len(turns)} turns), each as Twilio makes it: a signed "
            "`POST /twilio/voice`, then the WebSocket with `connected`, `start` "
            "and a `media` frame every 20 ms in real time, quiet between the "
            f"words. The caller ({CALLER.label}, `{CALLER.voice}`) says an "
            f"ordering script ({'; '.join(SCRIPT)}) {THINKING_SECONDS} s after "
            "each reply's mark, echoed at once. The whole turn is timed at the "
            "caller; its parts by timers in the gateway "
            "(`bench/phone_gateway.py`), on the same clock, so that they add up "
            f"to it. The end-of-utterance silence is {silence} s "
            "(`voice.endpointing.Endpointing`).",
            "",
            table(["Part", "Median ms", "p95 ms", "Mean ms"], latency_rows(turns)),
            "",
            f"{len(answered)} of {len(turns)} turns answered ({exact} heard word "
            f"for word); the text-to-speech worker ran in {workers} (the others' "
            f"lines were cached). {under} of {len(answered)} under "
            f"{LATENCY_AIM_SECONDS:.0f} s; aim, median under "
            f"{LATENCY_AIM_SECONDS:.0f} s: "
            + ("**met**" if median is not None and median < LATENCY_AIM_SECONDS
               else "**not met**")
            + f" ({seconds_text(median)} s).",
        ]
    )  # fmt: skip


def level_figures(level: Level, figures: PhoneFigures) -> dict:
    turns = timed_turns(level.callers, figures.timings)
    answered = [each for each in turns if each.answered]
    parts = [each.parts() for each in answered]
    lags: list[float] = []
    backlogs: list[float] = []
    for caller in level.callers:
        record = figures.timings.calls.get(caller.call_sid)
        if record and record["lags"]:
            lags += [lateness for _, lateness in record["lags"]]
            backlogs.append(sustained_backlog(record["lags"]))
    server = sum(
        seconds for name, seconds in level.cpu_seconds.items() if "callers" not in name
    )
    return {
        "turns": len(turns),
        "answered": len(answered),
        "latency": [each.turn.latency for each in answered],
        "end": [each["end of utterance"] for each in parts],
        "recognition": [each["recognition"] for each in parts],
        "thread": [each["waiting for a thread"] for each in parts],
        "assistant": [each["assistant"] for each in parts],
        "synthesis": [each["speech synthesis"] for each in parts],
        "lags": lags,
        "backlog": max(backlogs, default=0.0),
        "late_frames": sum(caller.late_frames for caller in level.callers),
        "gateway_cores": level.cpu_seconds.get("gateway", 0.0) / level.seconds,
        "server_cores": server / level.seconds,
        "caller_cores": level.cpu_seconds.get("callers (this process)", 0.0)
        / level.seconds,
    }


def keeps_up(level: dict) -> bool:
    return level["answered"] > 0 and level["backlog"] < BACKLOG_LIMIT_SECONDS


def levels_section(figures: PhoneFigures) -> str:
    rows = []
    summaries = []
    for level in figures.levels:
        each = level_figures(level, figures)
        summaries.append((level.calls, each))
        rows.append(
            [
                str(level.calls),
                f"{each['answered']} / {each['turns']}",
                f"{ms(middle(each['latency']))} / {ms(p95(each['latency']))} / "
                f"{ms(max(each['latency'], default=None))}",
                f"{ms(middle(each['end']))} / {ms(p95(each['end']))}",
                f"{ms(middle(each['recognition']))} / {ms(p95(each['recognition']))}",
                f"{ms(p95(each['thread']))}",
                f"{ms(middle(each['assistant']))}",
                f"{ms(middle(each['synthesis']))}",
                f"{ms(p95(each['lags']))} / {ms(max(each['lags'], default=None))}",
                ms(each["backlog"]),
                f"{each['gateway_cores']:.2f} / {each['server_cores']:.2f} / "
                f"{each['caller_cores']:.2f}",
                f"{level.load_average:.1f}",
                "yes" if keeps_up(each) else "**no**",
            ]
        )
    kept = [calls for calls, each in summaries if keeps_up(each)]
    most = max(kept, default=0)
    return "\n".join(
        [
            "### Simultaneous calls",
            "",
            f"N calls at once for {LEVEL_SECONDS} s at each level (turns begun "
            f"by then are finished), starting up to {STAGGER_SECONDS:.0f} s "
            "apart; each caller sends its "
            "20 ms frames in real time all call long, waits for the reply to "
            "play (the mark is echoed once the reply's length has passed, as "
            f"Twilio does), thinks {THINKING_SECONDS} s and says the next line "
            "of the script; a call the assistant ends (put through, goodbye) is "
            "followed at once by another resident's. *Frame lateness* is, for a "
            "sample of frames, how long after its due time (the caller's clock) "
            "the gateway took it from the WebSocket; frames wait while a turn "
            "is answered, by design, but the least lateness over any three "
            "seconds of a call (*backlog*) returns to nothing if the gateway "
            "keeps up. *Keeps up*: backlog under "
            f"{BACKLOG_LIMIT_SECONDS * 1000:.0f} ms. Cores: CPU seconds per "
            "second of the gateway / the server side (gateway, recognition "
            "workers, Rasa, actions) / the callers (this process), from /proc.",
            "",
            table(
                [
                    "Calls",
                    "Turns answered / said",
                    "Turn ms median / p95 / max",
                    "End of utterance ms median / p95",
                    "Recognition ms median / p95",
                    "Thread wait p95 ms",
                    "Assistant median ms",
                    "Synthesis median ms",
                    "Frame lateness p95 / max ms",
                    "Backlog ms",
                    "Cores",
                    "Load average",
                    "Keeps up",
                ],
                rows,
            ),  # fmt: skip
            "",
            f"Most calls kept up with: {most} of those tried; aim, at least "
            f"{CALLS_AIM} on two cores: "
            + ("**met**." if most >= CALLS_AIM else "**not met**."),
        ]
    )


def memory_section(figures: PhoneFigures) -> str:
    names = ["gateway", "recognition workers", "rasa server", "action server"]
    rows = []
    for moment, processes in figures.memory.items():
        cells = []
        for name in names:
            figures_of = processes.get(name, {})
            cells.append(
                f"{figures_of.get('VmHWM', 0):.0f} / {figures_of.get('VmRSS', 0):.0f}"
            )
        rows.append([moment, *cells])
    return "\n".join(
        [
            "### Memory",
            "",
            "Peak (VmHWM) / current (VmRSS) resident memory in MB, from "
            "/proc/PID/status. The gateway is the supervisor's child started "
            "through `bench/phone_gateway.py` (the same app, with timers). "
            "Speech is recognised in the gateway's worker processes "
            "(`HH_RECOGNITION_PROCESSES`, one per core): each loads "
            "pocketsphinx with the domain model and keeps a decoder for each "
            "call in progress, kept for later calls; their figures are summed.",
            "",
            table(["Moment", *[f"{name} MB" for name in names]], rows),
        ]
    )


def render(figures: PhoneFigures) -> str:
    return "\n\n".join(
        [
            accuracy_section(figures.accuracy),
            latency_section(figures),
            levels_section(figures),
            memory_section(figures),
            f"Audio synthesised in {figures.synthesis_seconds:.0f} s; recognised "
            f"and parsed in {figures.recognition_seconds:.0f} s (while the stack "
            f"started). {figures.model_note}",
        ]
    )
