"""Text turns under load: the whole assistant by SMS against plain Rasa by REST.

Both run at once from one trained model and one action server: the assistant
as `python -m assistant run` starts it, and beside it a plain `rasa run` with
its own REST channel and tracker store. Each level of load is sent to one and
then the other in alternating segments (gateway, Rasa, Rasa, gateway), so a
change in the machine's other work weighs on both alike.

Residents first write back at once, to find what the machine can do; then
they take a few seconds to read each answer and write the next message, which
is still quicker than most people text, to see what a resident would wait.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import resource
import statistics
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from bench.load import (
    RETRY_EVERY,
    GatewayTarget,
    LoadResult,
    PlainRasaTarget,
    SimulatedResident,
    SimulatedUser,
    StoreCheck,
    add_residents,
    check_plain_rasa,
    check_store,
    drive,
    summarise,
)
from bench.measure import BenchmarkError
from bench.nlu_render import table
from bench.stack import (
    AssistantStack,
    PlainRasa,
    copy_model,
    cpu_seconds,
    fresh_folder,
    memory_of,
)

logger = logging.getLogger(__name__)

# Seconds a paced resident takes to read an answer and write the next message,
# shortest and longest; most people take longer to text.
THINK_SECONDS = (2.0, 6.0)
# (residents, paced) for each level of load, in order.
LEVELS = ((1, False), (10, False), (50, False), (10, True), (50, True))
# Per level, (segments per target, seconds each). The machine is shared, so
# many short segments, alternating, spread its other work over both targets;
# at 50 residents a turn takes seconds, so segments are longer there, and a
# paced resident writes only every few seconds, so those are longer still.
SEGMENTS = {
    (1, False): (5, 4),
    (10, False): (5, 5),
    (50, False): (3, 12),
    (10, True): (4, 40),
    (50, True): (2, 30),
}
WARM_UP_SECONDS = 4
# The gateway's aim: add under this much to Rasa's own latency.
AIMED_RATIO = 1.15


@dataclass
class LevelFigures:
    """Both targets at one level, and what each process spent on it."""

    residents: int
    paced: bool
    results: dict[str, LoadResult]
    cpu_seconds: dict[str, dict[str, float]] = field(default_factory=dict)
    """Per target, the CPU seconds each process used during its segments."""
    load_averages: list[float] = field(default_factory=list)


def resident_pool(residents: list[SimulatedResident]) -> Iterator[SimulatedResident]:
    yield from residents
    raise BenchmarkError("the benchmark ran out of simulated residents")


def segment_order(count: int) -> list[str]:
    """Gateway, Rasa, Rasa, gateway, gateway, Rasa...: `count` segments each."""
    pairs = [
        ("gateway", "plain") if n % 2 == 0 else ("plain", "gateway")
        for n in range(count)
    ]
    return [name for pair in pairs for name in pair]


def pool_size(levels: tuple[tuple[int, bool], ...]) -> int:
    """Enough fresh residents for every conversation one target can hold.

    A conversation is about 12 turns; even at 100 turns a second a segment
    finishes fewer than 10 a second, besides one cut short per resident. The
    warm-up and a margin come on top.
    """
    return (
        sum(
            level[0] + count * seconds * 100 // 12
            for level, (count, seconds) in SEGMENTS.items()
            if level in levels
        )
        + 200
    )


def measured_processes(stack: AssistantStack, plain: PlainRasa) -> dict[str, int]:
    pids = stack.processes()
    pids["plain rasa"] = plain.process.pid
    pids["load generator"] = os.getpid()
    return pids


async def run_levels(stack: AssistantStack, plain: PlainRasa) -> list[LevelFigures]:
    database = stack.database()
    size = pool_size(LEVELS)
    gateway_pool = resident_pool(add_residents(database, size, 1))
    plain_pool = resident_pool(add_residents(database, size, 500_000))
    database.close()
    targets = {
        "gateway": (GatewayTarget(stack.base_url), gateway_pool),
        "plain": (PlainRasaTarget(plain.url), plain_pool),
    }
    for name, (target, pool) in targets.items():
        logger.info("warming up %s", name)
        await drive(target, pool, 2, WARM_UP_SECONDS)

    pids = measured_processes(stack, plain)
    levels = []
    for residents, paced in LEVELS:
        figures = LevelFigures(residents, paced, {})
        count, seconds = SEGMENTS[(residents, paced)]
        users = {
            name: [SimulatedUser(pool) for _ in range(residents)]
            for name, (_, pool) in targets.items()
        }
        for name in segment_order(count):
            target, pool = targets[name]
            logger.info("%s residents on %s (paced: %s)", residents, name, paced)
            before = {process: cpu_seconds(pid) for process, pid in pids.items()}
            result = await drive(
                target,
                pool,
                residents,
                seconds,
                retry_every=RETRY_EVERY if name == "gateway" else 0,
                users=users[name],
                think_seconds=THINK_SECONDS if paced else None,
            )
            stack.check_running()
            spent = figures.cpu_seconds.setdefault(name, {})
            for process, pid in pids.items():
                used = cpu_seconds(pid) - before[process]
                spent[process] = spent.get(process, 0.0) + used
            figures.load_averages.append(os.getloadavg()[0])
            logger.info(
                "%s turns, %s residents used, errors %s",
                result.turns,
                result.residents_used,
                dict(result.errors),
            )
            if name in figures.results:
                figures.results[name].add(result)
            else:
                figures.results[name] = result
        levels.append(figures)
    return levels


@dataclass(frozen=True)
class TextTurnFigures:
    levels: list[LevelFigures]
    gateway_check: StoreCheck
    plain_check: StoreCheck
    memory: dict[str, dict[str, float]]
    start_seconds: dict[str, float]
    model_note: str


def measure() -> TextTurnFigures:
    folder = fresh_folder("text_turns")
    model = copy_model(folder / "model")
    stack = AssistantStack(folder / "data", model.path)
    # The same Rasa server as the assistant's, fixes and all, so that the
    # difference is the gateway's alone (`rasa-fixes` compares stock Rasa).
    plain = PlainRasa(
        folder / "plain",
        model.path,
        stack.actions_url,
        stack.data_dir,
        module="assistant.rasa_server",
    )
    try:
        stack.launch()
        plain.launch()
        start_seconds = {
            "assistant": stack.wait_until_ready(),
            "plain rasa": plain.wait_until_ready(),
        }
        levels = asyncio.run(run_levels(stack, plain))

        pids = measured_processes(stack, plain)
        memory = {name: memory_of(pid) for name, pid in pids.items()}
        # The load generator's own peak, as getrusage knows it (kibibytes).
        own_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        memory["load generator"]["VmHWM"] = own_peak

        gateway_sent: dict = {}
        plain_sent: dict = {}
        for figures in levels:
            gateway_sent.update(figures.results["gateway"].sent)
            plain_sent.update(figures.results["plain"].sent)
        database = stack.database()
        gateway_check = check_store(
            database, stack.data_dir / "rasa_tracker.db", gateway_sent
        )
        database.close()
        plain_check = check_plain_rasa(plain.tracker_path, plain_sent)
    finally:
        plain.stop()
        stack.stop()
    return TextTurnFigures(
        levels, gateway_check, plain_check, memory, start_seconds, model.describe()
    )


def ms(value: float) -> str:
    return f"{value:.0f}"


def level_label(figures: LevelFigures) -> str:
    return f"{figures.residents}, paced" if figures.paced else str(figures.residents)


def aim_rows(levels: list[LevelFigures]) -> list[list[str]]:
    """The assistant's own aims: at 10 residents a median under 100 ms and a
    p95 under 300 ms; at 50, no failures."""
    rows = []
    for figures in levels:
        result = figures.results["gateway"]
        latency = summarise(result.latencies)
        failures = sum(result.errors.values())
        if figures.residents == 10:
            met = latency.median_ms < 100 and latency.p95_ms < 300
            aim = "median < 100 ms, p95 < 300 ms"
        elif figures.residents == 50:
            met = failures == 0
            aim = "no failures"
        else:
            continue
        rows.append(
            [
                level_label(figures),
                aim,
                ms(latency.median_ms),
                ms(latency.p95_ms),
                str(failures),
                "yes" if met else "**no**",
            ]
        )
    return rows


def errors_text(result: LoadResult) -> str:
    if not result.errors:
        return "0"
    listed = ", ".join(f"{count} {name}" for name, count in result.errors.items())
    return f"{sum(result.errors.values())} ({listed})"


def level_rows(levels: list[LevelFigures]) -> list[list[str]]:
    rows = []
    for figures in levels:
        for name in ("gateway", "plain"):
            result = figures.results[name]
            latency = summarise(result.latencies)
            rows.append(
                [
                    level_label(figures),
                    result.label,
                    str(result.turns),
                    f"{result.turns_per_second:.1f}",
                    ms(latency.median_ms),
                    ms(latency.p95_ms),
                    ms(latency.max_ms),
                    errors_text(result),
                    f"{result.conversations_finished} ({result.orders_placed} / "
                    f"{result.handed_off})",
                ]
            )
    return rows


def server_cpu_per_turn(figures: LevelFigures, name: str) -> float:
    """CPU seconds the server side (gateway, Rasa, actions) spent per turn."""
    rasa = "rasa server" if name == "gateway" else "plain rasa"
    spent = figures.cpu_seconds[name]
    total = sum(
        spent.get(process, 0.0) for process in ("gateway", rasa, "action server")
    )
    return total / figures.results[name].turns


# Resamples for the interval around a median ratio, and their seed.
RESAMPLES = 2000
RESAMPLE_SEED = 7


def median_ratio_interval(
    ours: Sequence[float], theirs: Sequence[float]
) -> tuple[float, float]:
    """A 95% bootstrap interval for the ratio of two samples' medians: how
    far the ratio could move by chance in which turns happened to be sent."""
    draw = random.Random(RESAMPLE_SEED)
    ratios = sorted(
        statistics.median(draw.choices(ours, k=len(ours)))
        / statistics.median(draw.choices(theirs, k=len(theirs)))
        for _ in range(RESAMPLES)
    )
    return ratios[int(RESAMPLES * 0.025)], ratios[int(RESAMPLES * 0.975) - 1]


def ratio_rows(levels: list[LevelFigures]) -> list[list[str]]:
    rows = []
    for figures in levels:
        gateway = figures.results["gateway"]
        plain = figures.results["plain"]
        ours, theirs = summarise(gateway.latencies), summarise(plain.latencies)
        median_ratio = ours.median_ms / theirs.median_ms
        cpu_ratio = server_cpu_per_turn(figures, "gateway") / server_cpu_per_turn(
            figures, "plain"
        )
        low, high = median_ratio_interval(gateway.latencies, plain.latencies)
        rows.append(
            [
                level_label(figures),
                f"{median_ratio:.2f}",
                f"{low:.2f}-{high:.2f}",
                f"{ours.p95_ms / theirs.p95_ms:.2f}",
                f"{gateway.turns_per_second / plain.turns_per_second:.2f}",
                f"{cpu_ratio:.2f}",
                f"{ours.median_ms - theirs.median_ms:+.0f}",
                "yes" if median_ratio < AIMED_RATIO else "**no**",
                " / ".join(f"{load:.1f}" for load in figures.load_averages),
            ]
        )
    return rows


def cpu_rows(levels: list[LevelFigures]) -> list[list[str]]:
    rows = []
    for figures in levels:
        for name in ("gateway", "plain"):
            result = figures.results[name]
            spent = figures.cpu_seconds[name]
            rasa = "rasa server" if name == "gateway" else "plain rasa"
            server_side = ("gateway", rasa, "action server")
            total = sum(spent.get(process, 0.0) for process in server_side)
            per_turn = [
                spent.get(process, 0.0) / result.turns * 1000
                for process in (*server_side, "load generator")
            ]
            rows.append(
                [
                    level_label(figures),
                    result.label,
                    *(f"{each:.1f}" for each in per_turn),
                    f"{total / result.turns * 1000:.1f}",
                    f"{total / result.seconds:.2f}",
                ]
            )
    return rows


def check_text(gateway: StoreCheck, plain: StoreCheck, retries: list) -> str:
    same = sum(1 for retry in retries if retry.same_replies)
    retry_latency = summarise([retry.seconds for retry in retries])
    return "\n".join(
        [
            f"- Gateway: {gateway.sent} distinct MessageSids sent; "
            f"{gateway.stored_once} stored exactly once, {gateway.lost} lost, "
            f"{gateway.stored_twice} stored twice, {gateway.unexpected} unexpected "
            f"rows; {gateway.unanswered} inbound rows without a stored reply; "
            f"{gateway.replies_differ} whose stored replies differ from the "
            "webhook's answer. Rasa's tracker holds "
            f"{gateway.rasa_saw} user messages from these residents "
            f"(one per MessageSid: {gateway.rasa_saw == gateway.sent}).",
            f"- Retried webhooks (one turn in {RETRY_EVERY} sent again with the "
            f"same MessageSid after its answer): {len(retries)}, {same} answered "
            "with the same replies, none passed to Rasa again (above); answered "
            f"from the store in {retry_latency.median_ms:.0f} ms median, "
            f"{retry_latency.p95_ms:.0f} ms p95.",
            f"- Plain Rasa: {plain.sent} messages sent, {plain.rasa_saw} user "
            "messages in its tracker store.",
        ]
    )


def memory_rows(memory: dict[str, dict[str, float]]) -> list[list[str]]:
    return [
        [name, f"{figures.get('VmHWM', 0):.0f}", f"{figures.get('VmRSS', 0):.0f}"]
        for name, figures in memory.items()
    ]


def render(figures: TextTurnFigures) -> str:
    levels = figures.levels
    retries = [retry for level in levels for retry in level.results["gateway"].retries]
    return "\n\n".join(
        [
            "Each simulated resident is a fresh registered resident holding one "
            "ordering conversation (greeting, four products in varied words, "
            'answers to each "which one?", the basket read back, a quantity '
            "changed, the order placed with a yes; about 12 turns), then another "
            "as the next fresh resident. At the first three levels every resident "
            "sends its next message as soon as it has the answer, so N residents "
            "keep N turns in flight: what the machine can do. At the *paced* "
            "levels each resident takes "
            f"{THINK_SECONDS[0]:.0f} to {THINK_SECONDS[1]:.0f} s (evenly drawn) "
            "to read the answer and write the next message, quicker than most "
            "people text: what a resident would wait. "
            "The gateway gets SMS webhooks signed as Twilio signs them "
            "(`POST /twilio/sms`, answered in TwiML); plain Rasa gets the same "
            "words on its REST channel (`POST /webhooks/rest/webhook`), from the "
            "same model, action server and store, with its own tracker store "
            "file, run as the assistant runs Rasa (`python -m "
            "assistant.rasa_server`, with its four fixes; *Four Rasa server "
            "fixes* compares Rasa as it comes), so that the difference is the "
            "gateway's alone. At each level the two targets take turns, in segments "
            "ordered gateway, Rasa, Rasa, gateway, gateway, Rasa... ("
            + ", ".join(
                f"{count} of {seconds} s each at {level}" + (" paced" if paced else "")
                for (level, paced), (count, seconds) in SEGMENTS.items()
            )
            + " resident(s)), and each resident carries on its conversation "
            "from one of its target's segments to the next. "
            "Latency is measured at the client, from sending to the whole answer.",
            table(
                [
                    "Residents",
                    "Target",
                    "Turns",
                    "Turns/s",
                    "Median ms",
                    "p95 ms",
                    "Max ms",
                    "Errors",
                    "Conversations finished (ordered / to a volunteer)",
                ],
                level_rows(levels),
            ),
            "### The aims for a text turn\n\n"
            "The whole assistant (the gateway's rows above), against the aims "
            "of a median under 100 ms and a p95 under 300 ms with 10 residents, "
            "and no failures with 50.",
            table(
                ["Residents", "Aim", "Median ms", "p95 ms", "Failures", "Met"],
                aim_rows(levels),
            ),
            "### The gateway's cost\n\n"
            f"Ratios are gateway over plain Rasa; the aim is a median under "
            f"{AIMED_RATIO:.2f}. The interval is a 95% bootstrap interval for "
            f"the median ratio ({RESAMPLES} resamples of each target's turns). "
            "*CPU per turn* is the server side's (gateway, "
            "Rasa, action server) CPU time per turn, from /proc: it is not "
            "shifted by the machine's other work the way latency is.",
            table(
                [
                    "Residents",
                    "Median ratio",
                    "Its 95% interval",
                    "p95 ratio",
                    "Throughput ratio",
                    "CPU per turn ratio",
                    "Gateway adds (median ms)",
                    f"Under {AIMED_RATIO:.2f}",
                    "Load average after each segment",
                ],
                ratio_rows(levels),
            ),
            "### CPU per turn\n\n"
            "CPU milliseconds each process used per turn during the target's "
            "segments (from /proc/PID/stat), and the cores the server side kept "
            "busy. The machine has 2 cores, shared with other work.",
            table(
                [
                    "Residents",
                    "Target",
                    "Gateway",
                    "Rasa server",
                    "Action server",
                    "Load generator",
                    "Server side total",
                    "Cores busy",
                ],
                cpu_rows(levels),
            ),
            "### Nothing lost, nothing twice\n\n"
            + check_text(figures.gateway_check, figures.plain_check, retries),
            "### Memory after the load\n\n"
            "Peak (VmHWM) and current (VmRSS) resident memory in MB, read from "
            "/proc/PID/status after the last segment. Start-up to ready: "
            + ", ".join(
                f"{name} {seconds:.0f} s"
                for name, seconds in figures.start_seconds.items()
            )
            + " (started together).",
            table(["Process", "Peak MB", "Now MB"], memory_rows(figures.memory)),
            figures.model_note,
        ]
    )


def run() -> str:
    """Measure text turns at every level, print and return the section."""
    figures = measure()
    section = render(figures)
    print(section)
    return section
