"""One error family: the CLI catches `IvcdbError`, prints it and exits non-zero."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ivcdb.report import Problem


class IvcdbError(Exception):
    """An error a user can act on; its message says how."""

    exit_code = 1

    def lines(self) -> list[str]:
        """The message as the lines the CLI prints."""
        return [f"error: {self}"]


class DatabaseError(IvcdbError):
    """The database cannot be opened, reached or written."""


class SchemaOutOfDate(DatabaseError):
    """The database's schema revision is not the one this ivcdb needs."""


class NotFound(IvcdbError):
    """A named outcome, reference or claim does not exist."""


class OutputExists(IvcdbError):
    """The output file (or target database) has contents and `--force` was not given.

    Refusing to overwrite is an error of the run (exit 1), not of the command line.
    """


class MissingExtra(IvcdbError):
    """A feature needs an optional dependency that is not installed (`ivcdb.extras`)."""


class ForceNeeded(IvcdbError):
    """A step would destroy rows and `--force` was not given; nothing was changed."""


class UsageError(IvcdbError):
    """An option or argument is not valid."""

    exit_code = 2


class LoadRefused(IvcdbError):
    """A load found errors and wrote nothing (`outcome`: what the command did instead, for one
    that writes nothing anyway, such as `compare`)."""

    def __init__(self, problems: Sequence[Problem], *,
                 outcome: str = "nothing was written") -> None:
        self.problems = list(problems)
        errors = sum(1 for p in self.problems if p.is_error)
        super().__init__(f"{errors} error(s); {outcome}")

    def lines(self) -> list[str]:
        from ivcdb.report import problem_lines

        return [*problem_lines(self.problems), f"error: {self}"]
