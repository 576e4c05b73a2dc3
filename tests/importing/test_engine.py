"""The engine on invented rows (tests/importing/fixtures/tiny): good rows import, each bad row goes to the rejects
with its exact file, sheet, row, column and reason, and nothing of a rejected row is kept."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyoxigraph import Literal, NamedNode

from kg.errors import InputError
from kg.importing.engine import InputFile, run_mapping
from kg.importing.mapping import load_mapping
from kg.importing.rejects import ROW_REJECTED, VALUE_DROPPED, read_rejects, write_rejects
from tests.importing.xlsx import write_xlsx

TINY = Path(__file__).parent / "fixtures" / "tiny"
ID = "https://w3id.org/cohesion-kg/id/"
CKG = "https://w3id.org/cohesion-kg/ontology/"


def _files(folder: Path = TINY) -> dict[str, InputFile]:
    return {name: InputFile(folder / f"{name}.csv", "csv", f"tiny/{name}.csv", ";") for name in ("projects", "partners")}


@pytest.fixture(scope="module")
def result():
    return run_mapping(load_mapping(TINY / "mapping.yaml"), _files())


def _objects(result, subject, predicate):
    return {q.object for q in result.quads if q.subject == NamedNode(ID + subject) and q.predicate == NamedNode(predicate)}


def test_each_bad_row_is_rejected_with_file_row_column_and_reason(result):
    rejected = {(r.file, r.sheet, r.row, r.column, r.action): r.reason for r in result.rejects}
    assert set(rejected) == {
        ("tiny/projects.csv", "", 3, "start", ROW_REJECTED),          # a date that does not parse
        ("tiny/partners.csv", "", 3, "country", ROW_REJECTED),        # an unknown country
        ("tiny/partners.csv", "", 4, "", ROW_REJECTED),               # a malformed row
        ("tiny/partners.csv", "", 5, "project", ROW_REJECTED),        # a partner whose project is missing
    }
    assert "2020-13-45" in rejected[("tiny/projects.csv", "", 3, "start", ROW_REJECTED)]
    assert "Atlantis" in rejected[("tiny/partners.csv", "", 3, "country", ROW_REJECTED)]
    assert "expected 5 fields" in rejected[("tiny/partners.csv", "", 4, "", ROW_REJECTED)]
    assert "no project with code='P9'" in rejected[("tiny/partners.csv", "", 5, "project", ROW_REJECTED)]
    assert result.rejected_rows == 4


def test_nothing_of_a_rejected_row_is_kept_and_the_rest_imports(result):
    subjects = {q.subject.value for q in result.quads}
    assert ID + "project/tiny-p2" not in subjects
    assert ID + "organisation/tiny-arden-university" not in subjects
    assert ID + "organisation/tiny-lost-association" not in subjects
    assert {ID + "project/tiny-p1", ID + "project/tiny-p3", ID + "organisation/tiny-municipality-of-arden",
            ID + "organisation/tiny-mill-museum"} <= subjects


def test_values_are_normalised_and_typed(result):
    assert _objects(result, "project/tiny-p1", CKG + "startDate") == {
        Literal("2019-03-01", datatype=NamedNode("http://www.w3.org/2001/XMLSchema#date"))}
    assert _objects(result, "organisation/tiny-municipality-of-arden", CKG + "country") == {NamedNode(ID + "country/de")}
    # A blank optional cell is simply absent.
    assert _objects(result, "project/tiny-p3", CKG + "endDate") == set()


def test_a_join_links_a_partner_to_its_project_and_an_inverse_property_points_back(result):
    participation = "participation/tiny-p1-municipality-of-arden"
    assert _objects(result, participation, CKG + "inProject") == {NamedNode(ID + "project/tiny-p1")}
    assert _objects(result, "project/tiny-p1", CKG + "hasParticipation") == {NamedNode(ID + participation)}
    assert _objects(result, participation, CKG + "role") == {NamedNode(ID + "role/coordinator")}
    assert _objects(result, "organisation/tiny-municipality-of-arden", CKG + "basedIn") == {
        NamedNode(ID + "city/tiny-de-arden")}


def test_every_entity_is_derived_from_a_source_record_that_says_where_it_is(result):
    records = _objects(result, "organisation/tiny-mill-museum", "http://www.w3.org/ns/prov#wasDerivedFrom")
    assert records == {NamedNode(ID + "record/tiny/partner-P3-mill-museum")}
    record = "record/tiny/partner-P3-mill-museum"
    assert _objects(result, record, CKG + "sourceFile") == {Literal("partners.csv")}
    assert _objects(result, record, CKG + "sourceRow") == {
        Literal("6", datatype=NamedNode("http://www.w3.org/2001/XMLSchema#integer"))}
    assert _objects(result, record, "http://purl.org/dc/terms/source") == {NamedNode(ID + "source/dataset-tiny")}
    assert all(q.graph_name == NamedNode("https://w3id.org/cohesion-kg/graph/import/tiny") for q in result.quads)


def test_the_rejects_report_is_a_sorted_csv_that_reads_back(tmp_path, result):
    path = tmp_path / "tiny.rejects.csv"
    write_rejects(result.rejects, path)
    assert path.read_text(encoding="utf-8").splitlines()[0] == "source,file,sheet,row,column,value,reason,action"
    assert read_rejects(path) == sorted(set(result.rejects))


def test_a_column_the_mapping_reads_and_the_file_lacks_stops_with_both_places(tmp_path):
    (tmp_path / "projects.csv").write_text("code;name;acronym;start;end\nP1;X;X;2020;2021\n", encoding="utf-8")
    (tmp_path / "partners.csv").write_text((TINY / "partners.csv").read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(InputError) as e:
        run_mapping(load_mapping(TINY / "mapping.yaml", display="tiny/mapping.yaml"), _files(tmp_path))
    assert e.value.where == "tiny/mapping.yaml:18"
    assert "has no column 'title'" in e.value.message


def test_a_sheet_row_that_fails_names_its_sheet_and_a_value_that_is_not_required_is_dropped_not_the_row(tmp_path):
    mapping = tmp_path / "m.yaml"
    mapping.write_text("""\
source: book
sources:
  projects: {file: workbook, sheet: Projects}
maps:
  project:
    source: projects
    subject: "project/book-{Acronym|slug}"
    class: ckg:Project
    properties:
      - {predicate: rdfs:label, column: Acronym, language: en}
      - {predicate: ckg:startDate, column: Start, normalise: date, required: true}
      - {predicate: ckg:totalBudget, column: Budget, normalise: amount}
""")
    book = write_xlsx(tmp_path / "book.xlsx", {"Notes": [["x"]], "Projects": [
        ["Acronym", "Start", "Budget"], ["ONE", "2015/09/15", "750,000.00"], ["TWO", "someday", "1"],
        ["THREE", "2016/01/01", "lots"]]})
    result = run_mapping(load_mapping(mapping), {"workbook": InputFile(book, "xlsx", "book.xlsx")})
    assert {(r.sheet, r.row, r.column, r.action) for r in result.rejects} == {
        ("Projects", 3, "Start", ROW_REJECTED), ("Projects", 4, "Budget", VALUE_DROPPED)}
    assert _objects(result, "project/book-one", CKG + "totalBudget") == {
        Literal("750000.00", datatype=NamedNode("http://www.w3.org/2001/XMLSchema#decimal"))}
    assert _objects(result, "project/book-three", CKG + "startDate")
