"""Rows out of published exports: CSV, XLSX sheets (python-calamine) and JSON arrays.

Every row carries its file, sheet and number, so that a reject or a SHACL violation can name the place a user
opens in a spreadsheet. A row that cannot be read becomes a `BadRow` with the reason, never an exception: the
rest of the file still imports.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from kg.errors import InputError

FORMATS = ("csv", "xlsx", "json")


@dataclass(frozen=True)
class Row:
    file: str                 # as the manifest names it, so reports point at the same path
    sheet: str | None
    number: int               # CSV: line of the record's start (header is 1); XLSX: sheet row; JSON: 1-based index
    values: dict[str, str] = field(hash=False)

    @property
    def where(self) -> str:
        sheet = f":{self.sheet}" if self.sheet else ""
        return f"{self.file}{sheet}:{self.number}"


@dataclass(frozen=True)
class BadRow:
    file: str
    sheet: str | None
    number: int
    reason: str
    column: str | None = None


def read_rows(path: Path, fmt: str, *, display: str | None = None, sheet: str | None = None,
              delimiter: str = ",", encoding: str = "utf-8-sig", iterator: str | None = None
              ) -> Iterator[Row | BadRow]:
    """Rows of one logical source. `display` is the path reports show (defaults to `path`). Raises InputError
    only when the file as a whole cannot be read (missing, not a workbook, no such sheet, not JSON)."""
    display = display or str(path)
    if fmt == "csv":
        return _csv_rows(path, display, delimiter, encoding)
    if fmt == "xlsx":
        return _xlsx_rows(path, display, sheet)
    if fmt == "json":
        return _json_rows(path, display, iterator, encoding)
    raise InputError(f"unknown format {fmt!r} (expected one of {', '.join(FORMATS)})", display)


def _csv_rows(path: Path, display: str, delimiter: str, encoding: str) -> Iterator[Row | BadRow]:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise InputError(f"cannot read: {e.strerror or e}", display) from e
    try:
        # Invalid bytes become U+FFFD so the rows around them still import; those rows are rejected below.
        text = data.decode(encoding, errors="replace")
    except LookupError as e:
        raise InputError(f"unknown encoding {encoding!r}", display) from e
    return _csv_text_rows(text, display, delimiter, encoding)


def _csv_text_rows(text: str, display: str, delimiter: str, encoding: str) -> Iterator[Row | BadRow]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        return
    except csv.Error as e:
        yield BadRow(display, None, 1, f"header is not valid CSV: {e}")
        return
    width = len(header)
    start = reader.line_num + 1
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            yield BadRow(display, None, start, f"not valid CSV: {e}")
            start = reader.line_num + 1
            continue
        number, start = start, reader.line_num + 1
        if not any(f.strip() for f in fields):
            continue
        if len(fields) != width:
            yield BadRow(display, None, number, f"expected {width} fields separated by {delimiter!r}, found {len(fields)}")
            continue
        bad = next((h for h, f in zip(header, fields) if "\ufffd" in f), None)
        if bad is not None:
            yield BadRow(display, None, number, f"bytes that are not valid {encoding}", bad)
            continue
        yield Row(display, None, number, dict(zip(header, fields)))


def _cell(value) -> str:
    # Calamine reads every number as a float: a postal code or an id typed as a number comes back as 99099.0,
    # which the source meant as "99099".
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (datetime.date, datetime.datetime, datetime.time)):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _xlsx_rows(path: Path, display: str, sheet: str | None) -> Iterator[Row | BadRow]:
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(path))
    except FileNotFoundError as e:
        raise InputError("cannot read: no such file", display) from e
    except Exception as e:  # calamine raises its own error types for a file that is not a workbook
        raise InputError(f"not a readable workbook: {e}", display) from e
    name = sheet or workbook.sheet_names[0]
    if name not in workbook.sheet_names:
        raise InputError(f"no sheet {name!r} (the workbook has {', '.join(map(repr, workbook.sheet_names))})",
                         display)
    try:
        rows = workbook.get_sheet_by_name(name).to_python(skip_empty_area=False)
    except Exception as e:
        raise InputError(f"sheet {name!r} cannot be read: {e}", display) from e
    return _sheet_rows(rows, display, name)


def _sheet_rows(rows: list[list], display: str, sheet: str) -> Iterator[Row | BadRow]:
    if not rows:
        return
    header = [_cell(h).strip() for h in rows[0]]
    for index, cells in enumerate(rows[1:], start=2):
        values = [_cell(c) for c in cells]
        if not any(v.strip() for v in values):
            continue
        values += [""] * (len(header) - len(values))
        yield Row(display, sheet, index, dict(zip(header, values)))


def _json_rows(path: Path, display: str, iterator: str | None, encoding: str) -> Iterator[Row | BadRow]:
    try:
        with path.open(encoding=encoding) as f:
            data = json.load(f)
    except OSError as e:
        raise InputError(f"cannot read: {e.strerror or e}", display) from e
    except UnicodeDecodeError as e:
        raise InputError(f"not valid {encoding} at byte {e.start}", display) from e
    except json.JSONDecodeError as e:
        raise InputError(f"not valid JSON: {e.msg}", f"{display}:{e.lineno}:{e.colno}") from e
    # The iterator is a dotted path to the array of records ("results.items"), like RML's JSONPath but only
    # the part the exports we meet need.
    for key in (iterator or "").split("."):
        if not key or key == "$":
            continue
        if not isinstance(data, dict) or key not in data:
            raise InputError(f"no key {key!r} on the path {iterator!r} to the records", display)
        data = data[key]
    if not isinstance(data, list):
        raise InputError(f"expected an array of records, found a JSON {type(data).__name__}", display)
    return _json_records(data, display)


def _json_records(data: list, display: str) -> Iterator[Row | BadRow]:
    for index, record in enumerate(data, start=1):
        if not isinstance(record, dict):
            yield BadRow(display, None, index, f"record is a JSON {type(record).__name__}, not an object")
            continue
        yield Row(display, None, index, {k: _json_value(v) for k, v in record.items()})


def _json_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)
