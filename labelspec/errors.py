"""The exception tree of labelspec.

Every error a user can cause is a ``LabelspecError``; the CLI turns it into
``Error: <message>`` on stderr and the exit code of its class in one place
(``labelspec.cli.LabelspecGroup``). Scripts branch on the code, so each family has its own
(click's own usage errors exit 2):

    LabelspecError                                                        exit
    +-- InputError            bad input: an argument, option, file or row    1
    |   +-- WorkspaceError    not a workspace, bad labelspec.yaml            1
    |   +-- SpecError         a spec.yaml that cannot be read or validated   1
    |   +-- ProblemsError     many problems found at once; carries them      1
    |   +-- ReleaseError      a guideline release refused                    1
    |   +-- VersionError      not a semantic version (also a ValueError)     1
    +-- NotFoundError         a named guideline, version, labeler ... absent 3
    |   +-- DataMissingError  a file at a revision not here (also a VcsError) 3
    +-- ConflictError         exists already, or the workspace state forbids 4
    |   +-- LockError         another labelspec process holds the lock       4
    +-- VerifyError           verify found the store inconsistent            5
    +-- ExternalError         a tool outside labelspec failed                6
        +-- VcsError          git or DVC failed                              6
        +-- ToolError         a labeling tool's server refused or is down    6
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

    def to_json(self) -> dict[str, Any]:
        found = {"file": self.file, "line": self.line, "col": self.col, "path": self.path}
        if self.record:
            found["record"] = self.record
        return {**found, "message": self.message}


class LabelspecError(Exception):
    """Raised for every failure a user can cause or fix; the message says what to do."""

    exit_code = 1


class InputError(LabelspecError):
    """Raised for bad input: an argument, option, file, row or field the user can correct."""


class WorkspaceError(InputError):
    """Raised when the workspace is missing, already exists, or its config is invalid."""


class SpecError(InputError):
    """Raised when a spec.yaml cannot be parsed or validated."""


class ProblemsError(InputError):
    """Raised when a check or import found problems; carries all of them."""

    def __init__(self, summary: str, problems: list[Problem], total: int | None = None):
        self.problems = problems
        self.total = len(problems) if total is None else total
        super().__init__(summary)


class ReleaseError(InputError):
    """Raised when a guideline release is refused."""


class VersionError(InputError, ValueError):
    """Raised when a text is not a semantic version (MAJOR.MINOR.PATCH)."""


class NotFoundError(LabelspecError):
    """Raised when a named guideline, version, labeler, dataset or snapshot does not exist."""

    exit_code = 3


class ConflictError(LabelspecError):
    """Raised when something exists already or the workspace's state forbids the change."""

    exit_code = 4


class VerifyError(LabelspecError):
    """Raised when verify finds the store inconsistent with its history."""

    exit_code = 5


class ExternalError(LabelspecError):
    """Raised when a tool outside labelspec (git, DVC, a labeling tool's server) fails."""

    exit_code = 6


class VcsError(ExternalError):
    """Raised when a git or DVC operation fails."""


class LockError(ConflictError):
    """Raised when another labelspec process holds the workspace lock for too long."""


class DataMissingError(NotFoundError, VcsError):
    """Raised when a file as committed at a revision is not here: in neither git nor the DVC
    cache (run ``labelspec pull``). A ``VcsError`` too, for callers that fall back on one."""


class ToolError(ExternalError):
    """Raised when a labeling tool's server (Label Studio) refuses a request, ``status`` its
    HTTP status, or cannot be reached (``status`` None)."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status
