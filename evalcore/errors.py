"""The error hierarchy: every failure a user can cause ends up as one of these.

Each error carries a Chinese ``message`` fit to show as-is, plus structured fields so
tests and the CLI can inspect what went wrong without parsing text. The UI turns them
into ``st.error`` in one place; the CLI prints the message and exits non-zero.
"""

from __future__ import annotations

from typing import Any


class EvalcoreError(Exception):
    """Base class: a user-facing failure with a Chinese message."""

    exit_code = 1

    def __init__(self, message: str, **fields: Any) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields

    def __str__(self) -> str:
        return self.message


class InvalidInput(EvalcoreError):
    """The input breaks a rule (out of range, malformed, inconsistent)."""

    exit_code = 2


class PermissionDenied(EvalcoreError):
    """The acting user's role does not allow the operation."""

    exit_code = 3


class NotFound(EvalcoreError):
    """A named round, brand, judge or item does not exist."""

    exit_code = 4


class Conflict(EvalcoreError):
    """The operation clashes with the current state (locked round, concurrent edit)."""

    exit_code = 5
