"""Watchlist validation errors that name the file, the entry (with its line) and the field.

A problem carries a message code and its parameters (watchlist/messages.py) so that the console
shows it in the user's language (``problem.text("zh-CN")``); ``message`` is the English text the
CLI prints. ``unit`` says which part of the file the problem refuses (loader.read_watchlist keeps
the rest): ``("enterprise", i)``, ``("mark", i, j)``, ``("gi", i)``, ``("row", line)``; None = the
whole file.
"""
from __future__ import annotations

from dataclasses import dataclass, field as dc_field


@dataclass
class Problem:
    file: str
    line: int | None
    entry: str
    field: str
    message: str = ""
    code: str | None = None
    params: dict = dc_field(default_factory=dict)
    unit: tuple | None = None

    def __post_init__(self) -> None:
        if not self.message and self.code:
            from .messages import render

            self.message = render(self.code, "en", **self.params)

    def text(self, language: str | None = None) -> str:
        """The 'what is wrong' part in ``language`` (zh-CN default); uncoded problems (ownership
        checks of store/watchlist_ids.py) keep their English message."""
        if not self.code:
            return self.message
        from .messages import render

        return render(self.code, language, **self.params)

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.entry}: field '{self.field}': {self.message}"


def problem(file: str, line: int | None, entry: str, field: str, code: str, unit: tuple | None = None,
            **params) -> Problem:
    """A coded problem (message rendered from watchlist/messages.py)."""
    return Problem(file, line, entry, field, code=code, params=params, unit=unit)


class WatchlistError(ValueError):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))
