"""The one exception every ingest stage raises: :class:`IngestError`.

It sits below every stage (reading, recognising, parsing, validating) so that each can
stop ingest with a message that names the file, the column and what was expected.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


class IngestError(Exception):
    """A problem that stops ingest: it names the file, the column and what was expected."""

    def __init__(
        self,
        file: str | Path,
        problem: str,
        *,
        column: str | None = None,
        expected: Iterable[str] | None = None,
        found: Iterable[str] | None = None,
        hint: str | None = None,
    ):
        self.file = str(file)
        self.problem = problem
        self.column = column
        self.expected = list(expected or [])
        self.found = list(found or [])
        self.hint = hint  # what to do about it, when something can be suggested
        super().__init__(str(self))

    def __str__(self) -> str:
        lines = [f"{self.file}: {self.problem}"]
        if self.column:
            lines.append(f"  column: {self.column}")
        if self.expected:
            lines.append("  expected: " + "; ".join(self.expected))
        if self.found:
            lines.append("  found: " + "; ".join(self.found))
        if self.hint:
            lines.append("  hint: " + self.hint)
        return "\n".join(lines)
