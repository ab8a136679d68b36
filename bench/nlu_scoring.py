"""Scoring held-out predictions as the product sees them, and fallback sweeps."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

OUT_OF_SCOPE = "out_of_scope"
FALLBACK_INTENT = "nlu_fallback"
# Both end in action_not_understood: the resident is told kindly that the
# message was not understood and a volunteer can pick the conversation up.
HANDOFF_INTENTS = frozenset({OUT_OF_SCOPE, FALLBACK_INTENT})


@dataclass(frozen=True)
class Prediction:
    """One held-out message, what it should be and what the model said."""

    text: str
    expected: str
    predicted: str
    """What the served model answered."""
    ranking: tuple[tuple[str, float], ...]
    """The classifier's own ranking, best first, before any fallback."""
    if_kept: str
    """The final intent when the fallback leaves the classifier's choice."""
    if_fallback: str
    """The final intent when the fallback fires (a later component may act)."""


@dataclass(frozen=True)
class Scores:
    """The figures the product cares about, all as fractions of 1."""

    in_scope_accuracy: float
    """In-scope messages given their own intent; a fallback counts as wrong."""
    macro_f1: float
    """Mean F1 over every intent, with `nlu_fallback` read as `out_of_scope`."""
    out_of_scope_caught: float
    """Out-of-scope messages handed off: should hand off, and does."""
    in_scope_handed_off: float
    """In-scope messages handed off: should not hand off, but does."""
    in_scope_count: int
    out_of_scope_count: int

    @property
    def handoff_balance(self) -> float:
        """Caught minus wrongly handed off: 1 is perfect, 0 is chance."""
        return self.out_of_scope_caught - self.in_scope_handed_off


@dataclass(frozen=True)
class SweepPoint:
    """The scores had the FallbackClassifier used these two settings."""

    threshold: float
    ambiguity_threshold: float
    scores: Scores


def predictions_from_json(records: Iterable[dict]) -> list[Prediction]:
    """Predictions from the records bench.nlu_eval writes."""
    return [
        Prediction(
            text=record["text"],
            expected=record["expected"],
            predicted=record["predicted"],
            ranking=tuple((name, confidence) for name, confidence in record["ranking"]),
            if_kept=record["if_kept"],
            if_fallback=record["if_fallback"],
        )
        for record in records
    ]


def fallback_decision(
    ranking: Sequence[tuple[str, float]],
    threshold: float,
    ambiguity_threshold: float,
) -> str:
    """The intent Rasa's FallbackClassifier would leave for this ranking.

    It falls back when the top confidence is below `threshold`, or when the top
    two confidences are closer than `ambiguity_threshold`.
    """
    if not ranking:
        return FALLBACK_INTENT
    top_intent, top_confidence = ranking[0]
    if top_confidence < threshold:
        return FALLBACK_INTENT
    if len(ranking) >= 2:
        runner_up_confidence = ranking[1][1]
        if top_confidence - runner_up_confidence < ambiguity_threshold:
            return FALLBACK_INTENT
    return top_intent


def served_intent(
    prediction: Prediction, threshold: float, ambiguity_threshold: float
) -> str:
    """The final intent the whole pipeline would give with these settings."""
    decision = fallback_decision(prediction.ranking, threshold, ambiguity_threshold)
    if decision == FALLBACK_INTENT:
        return prediction.if_fallback
    return prediction.if_kept


def is_right(expected: str, got: str) -> bool:
    """Whether the product does the right thing: any handoff suits out_of_scope."""
    if expected == OUT_OF_SCOPE:
        return got in HANDOFF_INTENTS
    return got == expected


def score(pairs: Sequence[tuple[str, str]]) -> Scores:
    """Score (expected, predicted) intent pairs."""
    in_scope = [pair for pair in pairs if pair[0] != OUT_OF_SCOPE]
    out_of_scope = [got for expected, got in pairs if expected == OUT_OF_SCOPE]

    return Scores(
        in_scope_accuracy=share(expected == got for expected, got in in_scope),
        macro_f1=macro_f1(pairs),
        out_of_scope_caught=share(got in HANDOFF_INTENTS for got in out_of_scope),
        in_scope_handed_off=share(got in HANDOFF_INTENTS for _, got in in_scope),
        in_scope_count=len(in_scope),
        out_of_scope_count=len(out_of_scope),
    )


def share(outcomes: Iterable[bool]) -> float:
    outcomes = list(outcomes)
    return sum(outcomes) / len(outcomes) if outcomes else 0.0


def macro_f1(pairs: Sequence[tuple[str, str]]) -> float:
    """The unweighted mean F1 over the expected intents."""

    def as_handoff(intent: str) -> str:
        return OUT_OF_SCOPE if intent in HANDOFF_INTENTS else intent

    pairs = [(expected, as_handoff(got)) for expected, got in pairs]
    true_positives = Counter(expected for expected, got in pairs if expected == got)
    expected_counts = Counter(expected for expected, _ in pairs)
    predicted_counts = Counter(got for _, got in pairs)

    f1_scores = []
    for intent, expected_count in expected_counts.items():
        # 2TP / (2TP + FP + FN), where TP + FN and TP + FP are the two counts.
        denominator = expected_count + predicted_counts[intent]
        f1_scores.append(2 * true_positives[intent] / denominator)
    return sum(f1_scores) / len(f1_scores) if f1_scores else 0.0


def score_predictions(predictions: Sequence[Prediction]) -> Scores:
    """Score what the served pipeline, fallback included, actually predicted."""
    return score([(each.expected, each.predicted) for each in predictions])


def sweep_fallback(
    predictions: Sequence[Prediction],
    thresholds: Sequence[float],
    ambiguity_thresholds: Sequence[float],
) -> list[SweepPoint]:
    """Score each pair of fallback settings, as the whole pipeline would."""
    points = []
    for threshold in thresholds:
        for ambiguity in ambiguity_thresholds:
            pairs = [
                (each.expected, served_intent(each, threshold, ambiguity))
                for each in predictions
            ]
            points.append(SweepPoint(threshold, ambiguity, score(pairs)))
    return points


def best_point(
    points: Sequence[SweepPoint], configured: tuple[float, float]
) -> SweepPoint:
    """The settings that best separate out-of-scope messages from in-scope ones.

    Ranked by caught minus wrongly handed off, then by in-scope accuracy; among
    settings that score the same, the one nearest the `configured` (threshold,
    ambiguity threshold) wins, so a change is suggested only when it helps.
    """

    def distance_from_configured(point: SweepPoint) -> float:
        return abs(point.threshold - configured[0]) + abs(
            point.ambiguity_threshold - configured[1]
        )

    return max(
        points,
        key=lambda point: (
            round(point.scores.handoff_balance, 9),
            round(point.scores.in_scope_accuracy, 9),
            -distance_from_configured(point),
        ),
    )


def best_improvement(
    points: Sequence[SweepPoint], configured: tuple[float, float]
) -> SweepPoint:
    """The settings that catch the most, losing nothing against `configured`.

    Only settings with at least the configured accuracy and out-of-scope catch,
    and no more wrongly handed off, qualify; the configured point always does.
    """
    baseline = next(
        point
        for point in points
        if (point.threshold, point.ambiguity_threshold) == configured
    ).scores
    qualifying = [
        point
        for point in points
        if point.scores.in_scope_accuracy >= baseline.in_scope_accuracy
        and point.scores.out_of_scope_caught >= baseline.out_of_scope_caught
        and point.scores.in_scope_handed_off <= baseline.in_scope_handed_off
    ]
    return best_point(qualifying, configured)


def common_mistakes(
    predictions: Sequence[Prediction], limit: int = 5
) -> list[tuple[str, str, int]]:
    """The most frequent (expected, predicted) confusions, most frequent first.

    An out-of-scope message caught by the fallback is not a mistake.
    """
    mistakes = Counter(
        (each.expected, each.predicted)
        for each in predictions
        if not is_right(each.expected, each.predicted)
    )
    return [
        (expected, predicted, count)
        for (expected, predicted), count in mistakes.most_common(limit)
    ]


@dataclass(frozen=True)
class LaterComponentEffect:
    """What components after the fallback changed in the served answers."""

    changed: int
    made_right: int
    """Changed from a wrong answer to the right one."""
    made_wrong: int
    """Changed from the right answer to a wrong one."""


def later_component_effect(
    predictions: Sequence[Prediction], threshold: float, ambiguity_threshold: float
) -> LaterComponentEffect:
    """Compare the served answers with the classifier and fallback's alone."""
    changed = made_right = made_wrong = 0
    for each in predictions:
        before = fallback_decision(each.ranking, threshold, ambiguity_threshold)
        after = served_intent(each, threshold, ambiguity_threshold)
        if before == after:
            continue
        changed += 1
        right_before = is_right(each.expected, before)
        right_after = is_right(each.expected, after)
        made_right += right_after and not right_before
        made_wrong += right_before and not right_after
    return LaterComponentEffect(changed, made_right, made_wrong)
