"""The project's errors, each with a stable code.

HelpingHandsError
 +-- StoreError            (store-busy)
 +-- CatalogueImportError  (catalogue-bad-rows)
 +-- AssistantUnavailable  (rasa-unreachable)
 +-- OrderError            (order-empty-basket, order-not-found, order-dispatched)
"""

from __future__ import annotations


class HelpingHandsError(Exception):
    """Base of every error this project raises on purpose."""

    code = "helping-hands-error"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        if code:
            self.code = code

    def __str__(self) -> str:
        return f"[{self.code}] {self.args[0]}"


class StoreError(HelpingHandsError):
    code = "store-busy"


class CatalogueImportError(HelpingHandsError):
    """A catalogue file had bad rows; nothing was imported."""

    code = "catalogue-bad-rows"

    def __init__(self, problems: list[str]) -> None:
        super().__init__(f"{len(problems)} bad row(s); nothing was imported")
        self.problems = problems


class AssistantUnavailable(HelpingHandsError):
    """Rasa or the action server did not answer in time."""

    code = "rasa-unreachable"


class OrderError(HelpingHandsError):
    code = "order-error"
