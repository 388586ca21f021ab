"""Watchlist validation errors that name the file, the entry (with its line) and the field."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Problem:
    file: str
    line: int | None
    entry: str
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.entry}: field '{self.field}': {self.message}"


class WatchlistError(ValueError):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))
