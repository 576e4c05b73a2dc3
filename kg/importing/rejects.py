"""The rejects report: what an import left out, and the place and reason for each, one CSV row per problem."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

ROW_REJECTED = "row rejected"      # nothing of the row was imported
VALUE_DROPPED = "value dropped"    # the row was imported without this value

HEADER = ("source", "file", "sheet", "row", "column", "value", "reason", "action")


@dataclass(frozen=True, order=True)
class Reject:
    file: str
    sheet: str
    row: int
    column: str
    value: str
    reason: str
    action: str = ROW_REJECTED
    source: str = ""

    def __str__(self) -> str:
        sheet = f":{self.sheet}" if self.sheet else ""
        column = f" column {self.column!r}" if self.column else ""
        return f"{self.file}{sheet}:{self.row}:{column}: {self.reason} ({self.action})"


def write_rejects(rejects: Iterable[Reject], path: Path) -> None:
    """Sorted by place, so the same input gives the same report byte for byte."""
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(HEADER)
        for r in sorted(set(rejects)):
            writer.writerow((r.source, r.file, r.sheet, r.row, r.column, r.value, r.reason, r.action))


def read_rejects(path: Path) -> list[Reject]:
    with path.open(encoding="utf-8", newline="") as f:
        return [Reject(row["file"], row["sheet"], int(row["row"]), row["column"], row["value"], row["reason"],
                       row["action"], row["source"]) for row in csv.DictReader(f)]
