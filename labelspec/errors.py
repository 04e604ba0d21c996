"""The exception tree of labelspec.

Every error a user can cause is a ``LabelspecError``; the CLI turns it into
``Error: <message>`` on stderr and a non-zero exit code in one place
(``labelspec.cli.LabelspecGroup``).

    LabelspecError
    +-- WorkspaceError        not a workspace, already a workspace, bad labelspec.yaml
    +-- SpecError             a spec.yaml that cannot be read or does not validate
    +-- ProblemsError         many problems found at once (check, import); carries them
    +-- ReleaseError          a guideline release refused
    +-- VersionError          a text that is not a semantic version (also a ValueError)
    +-- NotFoundError         a named guideline, version, labeler, dataset ... does not exist
    +-- VcsError              git or DVC failed
    +-- LockError             another labelspec process holds the workspace lock
    +-- ToolError             a labeling tool's server refused a request or cannot be reached
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One finding of a check or an import, located as precisely as the source allows."""

    message: str
    file: str = ""
    line: int | None = None
    col: int | None = None
    path: str = ""
    severity: str = "error"
    record: str = ""  # where in a document without useful lines: "task 3, annotation 1"

    def location(self) -> str:
        parts = [self.file or "<input>"]
        if self.line is not None:
            parts.append(str(self.line))
            if self.col is not None:
                parts.append(str(self.col))
        where = ":".join(parts)
        return f"{where} [{self.record}]" if self.record else where

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        return f"{self.location()}: {where}{self.message}"

    def to_dict(self) -> dict[str, Any]:
        found = {"file": self.file, "line": self.line, "col": self.col, "path": self.path}
        if self.record:
            found["record"] = self.record
        return {**found, "message": self.message}


class LabelspecError(Exception):
    """Raised for every failure a user can cause or fix; the message says what to do."""

    exit_code = 1


class WorkspaceError(LabelspecError):
    """Raised when the workspace is missing, already exists, or its config is invalid."""


class SpecError(LabelspecError):
    """Raised when a spec.yaml cannot be parsed or validated."""


class ProblemsError(LabelspecError):
    """Raised when a check or import found problems; carries all of them."""

    def __init__(self, summary: str, problems: list[Problem], total: int | None = None):
        self.problems = problems
        self.total = len(problems) if total is None else total
        super().__init__(summary)


class ReleaseError(LabelspecError):
    """Raised when a guideline release is refused."""


class VersionError(LabelspecError, ValueError):
    """Raised when a text is not a semantic version (MAJOR.MINOR.PATCH)."""


class NotFoundError(LabelspecError):
    """Raised when a named guideline, version, labeler, dataset or snapshot does not exist."""


class VcsError(LabelspecError):
    """Raised when a git or DVC operation fails."""


class LockError(LabelspecError):
    """Raised when another labelspec process holds the workspace lock for too long."""


class ToolError(LabelspecError):
    """Raised when a labeling tool's server (Label Studio) refuses a request, ``status`` its
    HTTP status, or cannot be reached (``status`` None)."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status
