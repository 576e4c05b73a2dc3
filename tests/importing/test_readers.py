"""Readers: every row carries its file, sheet and number; a row that cannot be read is a BadRow, not a crash."""

from __future__ import annotations

import pytest

from kg.errors import InputError
from kg.importing.readers import BadRow, Row, read_rows
from tests.importing.xlsx import write_xlsx


def test_csv_rows_are_numbered_by_their_line_in_the_file_even_after_a_multiline_cell(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text('id;text\n1;"two\nlines"\n2;plain\n', encoding="utf-8")
    rows = list(read_rows(path, "csv", delimiter=";"))
    assert [(r.number, r.values["id"]) for r in rows] == [(2, "1"), (4, "2")]


def test_a_csv_row_with_the_wrong_number_of_fields_is_a_bad_row_and_the_next_rows_still_read(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("a,b\n1,2\n3\n4,5\n", encoding="utf-8")
    rows = list(read_rows(path, "csv", display="shown.csv"))
    assert isinstance(rows[1], BadRow) and rows[1].number == 3 and "expected 2 fields" in rows[1].reason
    assert rows[1].file == "shown.csv"
    assert [r.values["a"] for r in rows if isinstance(r, Row)] == ["1", "4"]


def test_bytes_that_are_not_valid_in_the_encoding_reject_only_their_row_and_name_the_column(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(b"name,town\nok,Arden\nbad,L\xfcbeck\n")
    rows = list(read_rows(path, "csv", encoding="utf-8"))
    assert isinstance(rows[0], Row)
    assert isinstance(rows[1], BadRow) and rows[1].column == "town" and rows[1].number == 3


def test_a_missing_file_is_an_input_error_naming_it(tmp_path):
    with pytest.raises(InputError) as e:
        read_rows(tmp_path / "nope.csv", "csv", display="imports/nope.csv")
    assert str(e.value).startswith("imports/nope.csv:")


def test_xlsx_rows_carry_their_sheet_and_row_and_numbers_read_back_as_the_text_meant(tmp_path):
    path = write_xlsx(tmp_path / "w.xlsx", {"First": [["x"], ["y"]],
                                           "Partners": [["code", "amount"], [103.0, 1.5], [None, None], ["A", 2]]})
    rows = list(read_rows(path, "xlsx", sheet="Partners"))
    assert [(r.sheet, r.number, r.values) for r in rows] == [
        ("Partners", 2, {"code": "103", "amount": "1.5"}), ("Partners", 4, {"code": "A", "amount": "2"})]


def test_an_unknown_sheet_is_an_input_error_listing_the_sheets(tmp_path):
    path = write_xlsx(tmp_path / "w.xlsx", {"Projects": [["a"]]})
    with pytest.raises(InputError, match="no sheet 'Partners'.*'Projects'"):
        read_rows(path, "xlsx", sheet="Partners")


def test_json_records_are_numbered_from_one_and_a_record_that_is_not_an_object_is_a_bad_row(tmp_path):
    path = tmp_path / "a.json"
    path.write_text('{"results": [{"id": 7, "n": null, "ok": true}, [1, 2], {"id": 8.5}]}', encoding="utf-8")
    rows = list(read_rows(path, "json", iterator="results"))
    assert rows[0] == Row(str(path), None, 1, {"id": "7", "n": "", "ok": "true"})
    assert isinstance(rows[1], BadRow) and rows[1].number == 2
    assert rows[2].values == {"id": "8.5"}


def test_json_that_does_not_parse_is_an_input_error_with_line_and_column(tmp_path):
    path = tmp_path / "a.json"
    path.write_text('[{"id": 1},\n {"id": }]', encoding="utf-8")
    with pytest.raises(InputError) as e:
        read_rows(path, "json", display="a.json")
    assert e.value.where == "a.json:2:9"
