"""Turning the NLU pipeline figures into a report section and a summary."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from bench.nlu_scoring import Scores, SweepPoint, common_mistakes

if TYPE_CHECKING:
    from bench.nlu_pipelines import PipelineResult

# One held-out out-of-scope message is worth 1.6 points and DIET is not seeded,
# so a smaller gain is not read as one pipeline being better ...
CLEAR_MARGIN = 0.03
# ... and a gain on one figure counts only if the other loses less than this.
TOLERATED_LOSS = 0.01


def percent(fraction: float) -> str:
    return f"{fraction * 100:.1f}%"


def settings(point: SweepPoint) -> str:
    return f"{point.threshold:g} / {point.ambiguity_threshold:g}"


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(row) + " |" for row in rows),
    ]
    return "\n".join(lines)


def config_name(result: PipelineResult) -> str:
    name = f"`nlu/{result.pipeline.config_file}`"
    return name + " (serving)" if result.pipeline.serves else name


def latency(result: PipelineResult) -> str:
    return f"{result.parse_median_ms:.1f} / {result.parse_p95_ms:.1f} ms"


def later_effect(result: PipelineResult) -> str:
    if not result.later_components:
        return "none"
    effect = result.later_effect
    return (
        f"{effect.changed} changed: {effect.made_right} made right, "
        f"{effect.made_wrong} made wrong"
    )


COMPARISON_ROWS: list[tuple[str, Callable[[PipelineResult], str]]] = [
    ("Config", config_name),
    ("Fallback threshold / ambiguity", lambda r: settings(r.configured)),
    (
        "Intent accuracy, in scope (a fallback counts as wrong)",
        lambda r: percent(r.scores.in_scope_accuracy),
    ),
    (
        "Macro F1, all intents (`nlu_fallback` read as `out_of_scope`)",
        lambda r: f"{r.scores.macro_f1:.3f}",
    ),
    (
        "Out of scope caught (should hand off, does)",
        lambda r: percent(r.scores.out_of_scope_caught),
    ),
    (
        "In scope handed off (should not hand off, does)",
        lambda r: percent(r.scores.in_scope_handed_off),
    ),
    ("Answers changed by components after the fallback", later_effect),
    (
        "Training wall time (whole `rasa train` process)",
        lambda r: f"{r.training.wall_seconds:.0f} s",
    ),
    ("Training peak RSS", lambda r: f"{r.training.peak_rss_mb:.0f} MB"),
    ("Model file", lambda r: f"{r.model_size_mb:.1f} MB"),
    ("Model load time", lambda r: f"{r.load_seconds:.1f} s"),
    (
        "Serving process peak RSS (load, then parse)",
        lambda r: f"{r.serving.peak_rss_mb:.0f} MB",
    ),
    (
        "First parse after load",
        lambda r: f"{r.first_parse_seconds * 1000:.0f} ms",
    ),
    ("Parse latency median / p95 (in process)", latency),
]


def comparison_table(results: Sequence[PipelineResult]) -> str:
    """Quality at the configured settings, and what each pipeline costs."""
    return table(
        ["", *(result.pipeline.label for result in results)],
        [
            [label, *(describe(result) for result in results)]
            for label, describe in COMPARISON_ROWS
        ],
    )


def sweep_grid(result: PipelineResult) -> str:
    """Caught and wrongly handed off at every swept pair of settings."""
    thresholds = sorted({point.threshold for point in result.sweep})
    ambiguities = sorted({point.ambiguity_threshold for point in result.sweep})
    configured = settings(result.configured)
    recommended = settings(result.recommended)

    def cell(point: SweepPoint) -> str:
        text = (
            f"{point.scores.out_of_scope_caught * 100:.0f} / "
            f"{point.scores.in_scope_handed_off * 100:.0f}"
        )
        if settings(point) == configured:
            text = f"[{text}]"
        if settings(point) == recommended:
            text = f"**{text}**"
        return text

    points = {settings(point): point for point in result.sweep}
    return table(
        ["threshold \\ ambiguity", *(f"{each:g}" for each in ambiguities)],
        [
            [
                f"{threshold:g}",
                *(
                    cell(points[f"{threshold:g} / {ambiguity:g}"])
                    for ambiguity in ambiguities
                ),
            ]
            for threshold in thresholds
        ],
    )


def sweep_summary(results: Sequence[PipelineResult]) -> str:
    """Each pipeline's configured settings against two notable swept ones."""
    rows = []
    for result in results:
        for label, point in (
            ("configured", result.configured),
            ("best balance", result.recommended),
            ("best without losing anything", result.improvement),
        ):
            rows.append(
                [
                    f"{result.pipeline.label}, {label}",
                    settings(point),
                    percent(point.scores.in_scope_accuracy),
                    percent(point.scores.out_of_scope_caught),
                    percent(point.scores.in_scope_handed_off),
                    f"{point.scores.macro_f1:.3f}",
                ]
            )
    header = [
        "",
        "threshold / ambiguity",
        "in-scope accuracy",
        "out of scope caught",
        "in scope handed off",
        "macro F1",
    ]
    return table(header, rows)


def mistakes_list(result: PipelineResult) -> str:
    mistakes = common_mistakes(result.predictions)
    listed = ", ".join(
        f"`{expected}` as `{predicted}` ({count})"
        for expected, predicted, count in mistakes
    )
    return f"- {result.pipeline.label}: {listed or 'none'}"


def clearly_better(better: Scores, worse: Scores) -> bool:
    """Whether `better` wins on accuracy or handoffs, losing little elsewhere."""
    accuracy_gain = better.in_scope_accuracy - worse.in_scope_accuracy
    balance_gain = better.handoff_balance - worse.handoff_balance
    wins_accuracy = accuracy_gain >= CLEAR_MARGIN and balance_gain > -TOLERATED_LOSS
    wins_handoffs = balance_gain >= CLEAR_MARGIN and accuracy_gain > -TOLERATED_LOSS
    return wins_accuracy or wins_handoffs


def choose(results: Sequence[PipelineResult]) -> tuple[PipelineResult, bool]:
    """The pipeline to serve, and whether it won by being clearly better.

    Judged at each pipeline's best balance: a pipeline clearly better than
    every other wins; otherwise the quickest to train wins.
    """
    for candidate in results:
        others = [result for result in results if result is not candidate]
        best = candidate.recommended.scores
        if all(clearly_better(best, other.recommended.scores) for other in others):
            return candidate, True
    return min(results, key=lambda result: result.training.wall_seconds), False


def point_phrase(point: SweepPoint) -> str:
    scores = point.scores
    return (
        f"threshold {point.threshold:g} and ambiguity "
        f"{point.ambiguity_threshold:g} "
        f"({percent(scores.in_scope_accuracy)} in-scope accuracy, "
        f"{percent(scores.out_of_scope_caught)} of out-of-scope messages "
        f"caught, {percent(scores.in_scope_handed_off)} of in-scope ones "
        f"handed off)"
    )


def verdict_sentence(
    chosen: PipelineResult, other: PipelineResult, won_on_quality: bool
) -> str:
    margin = f"{CLEAR_MARGIN * 100:.0f} points"
    if won_on_quality:
        why = (
            f"it is clearly better (by at least {margin} on accuracy or on "
            f"handoffs, without losing the other)"
        )
        if chosen.training.wall_seconds < other.training.wall_seconds:
            why += " and also cheaper"
        else:
            why += ", which is worth its extra cost"
    else:
        one_message = 100 / max(chosen.scores.out_of_scope_count, 1)
        why = (
            f"neither pipeline is better by {margin} or more on accuracy or on "
            f"handoffs (one held-out out-of-scope message is worth "
            f"{one_message:.1f} points), so the cheaper one wins"
        )
    verdict = f"**{chosen.pipeline.label} is chosen**: {why}."
    if not chosen.pipeline.serves:
        verdict += " `nlu/config.yml` does not serve it yet: that is a separate change."
    return verdict


def comparison_sentence(chosen: PipelineResult, other: PipelineResult) -> str:
    ours, theirs = chosen.recommended.scores, other.recommended.scores
    return (
        f"At the best balance for each, {chosen.pipeline.label} reaches "
        f"{percent(ours.in_scope_accuracy)} in-scope accuracy and a handoff "
        f"balance (caught minus wrongly handed off) of "
        f"{ours.handoff_balance * 100:.1f} points, against "
        f"{percent(theirs.in_scope_accuracy)} and "
        f"{theirs.handoff_balance * 100:.1f} for {other.pipeline.label}."
    )


def cost_sentence(chosen: PipelineResult, other: PipelineResult) -> str:
    return (
        f"{chosen.pipeline.label} trains in "
        f"{chosen.training.wall_seconds:.0f} s (peak "
        f"{chosen.training.peak_rss_mb:.0f} MB) against "
        f"{other.training.wall_seconds:.0f} s "
        f"({other.training.peak_rss_mb:.0f} MB), loads in "
        f"{chosen.load_seconds:.1f} s against {other.load_seconds:.1f} s, "
        f"serves in {chosen.serving.peak_rss_mb:.0f} MB against "
        f"{other.serving.peak_rss_mb:.0f} MB, and parses a message in "
        f"{chosen.parse_median_ms:.1f} ms against "
        f"{other.parse_median_ms:.1f} ms (medians)."
    )


def thresholds_sentence(chosen: PipelineResult) -> str:
    sentences = [
        f"For {chosen.pipeline.label}, `nlu/{chosen.pipeline.config_file}` "
        f"has {point_phrase(chosen.configured)}.",
        f"The best balance is at {point_phrase(chosen.recommended)}.",
    ]
    if settings(chosen.improvement) == settings(chosen.configured):
        sentences.append("No swept setting beats the configured one outright.")
    else:
        sentences.append(
            f"Without losing anything against the configured settings, "
            f"{point_phrase(chosen.improvement)} would do better."
        )
    return " ".join(sentences)


CAVEAT = (
    "The settings are picked on the held-out set itself, so read them as "
    "guidance and re-check them on real conversations. DIET is trained with a "
    "fixed random_seed; its figures still move a little with the machine's load."
)


def choice_paragraphs(results: Sequence[PipelineResult]) -> str:
    chosen, won_on_quality = choose(results)
    other = next(result for result in results if result is not chosen)
    return "\n\n".join(
        [
            verdict_sentence(chosen, other, won_on_quality),
            comparison_sentence(chosen, other),
            cost_sentence(chosen, other),
            thresholds_sentence(chosen),
            CAVEAT,
        ]
    )


def method_paragraph(results: Sequence[PipelineResult]) -> str:
    scores = results[0].scores
    in_scope, out_of_scope = scores.in_scope_count, scores.out_of_scope_count
    later = sorted({name for each in results for name in each.later_components})
    if later:
        names = ", ".join(f"`{name}`" for name in later)
        later_note = (
            f" Every figure is for the whole pipeline, {names} after the "
            "fallback included (with the demo catalogue); the table counts "
            "the answers it changed, judged against the classifier and "
            "fallback alone."
        )
    else:
        later_note = ""
    return (
        "Each pipeline is trained from scratch (`rasa train --force`, "
        "training cache off) on `nlu/data` into `var/bench/nlu/`, then loaded "
        "in a fresh process with `rasa.core.agent.Agent`, which parses the "
        f"{in_scope + out_of_scope} messages of `nlu/heldout/heldout.yml` "
        f"({in_scope} in scope, {out_of_scope} out of scope, none trained "
        "on). A message is *handed off* when it ends as `out_of_scope` or "
        "`nlu_fallback`: both lead to `action_not_understood`. `rasa test nlu` "
        "leaves fallback predictions out, so these figures are computed from "
        "the parse results." + later_note
    )


def sweep_paragraph(results: Sequence[PipelineResult]) -> str:
    agreement = ", ".join(
        f"{result.pipeline.label} "
        f"{len(result.predictions) - result.sweep_mismatches} of "
        f"{len(result.predictions)}"
        for result in results
    )
    return (
        "Other fallback settings were tried on each classifier's own ranking, "
        "read from the model's graph just before the FallbackClassifier; what "
        "the components after it make of each message, with and without a "
        "fallback, was recorded too. At the configured settings this "
        f"reproduces the served answers ({agreement} messages). The *best balance* "
        "maximises out-of-scope caught minus in-scope handed off, then "
        "accuracy; the *best without losing anything* catches the most while "
        "matching or beating the configured settings on all three rates. In "
        "the grids each cell is *caught / handed off* in percent; [brackets] "
        "mark the configured settings and **bold** the best balance."
    )


def render_section(results: Sequence[PipelineResult]) -> str:
    """The Markdown body of this benchmark's section of docs/benchmarks.md."""
    parts = [
        method_paragraph(results),
        comparison_table(results),
        "### Fallback thresholds",
        sweep_paragraph(results),
        sweep_summary(results),
    ]
    for result in results:
        parts += [f"#### {result.pipeline.label}", sweep_grid(result)]
    parts += [
        "### Most common mistakes at the configured settings",
        "\n".join(mistakes_list(result) for result in results),
        "### Choice",
        choice_paragraphs(results),
    ]
    return "\n\n".join(parts) + "\n"


def render_terminal(results: Sequence[PipelineResult]) -> str:
    """Every figure, the whole sweep included, as plain text for stdout."""
    lines = [comparison_table(results), ""]
    for result in results:
        lines.append(
            f"{result.pipeline.label}: fallback sweep (threshold, ambiguity, "
            "accuracy, caught, handed off, macro F1)"
        )
        for point in result.sweep:
            scores = point.scores
            lines.append(
                f"  {point.threshold:4g} {point.ambiguity_threshold:5g} "
                f"{percent(scores.in_scope_accuracy):>7} "
                f"{percent(scores.out_of_scope_caught):>7} "
                f"{percent(scores.in_scope_handed_off):>7} "
                f"{scores.macro_f1:6.3f}"
            )
        lines.append("")
    lines.append(choice_paragraphs(results))
    return "\n".join(lines)
