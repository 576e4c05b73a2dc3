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


def test_an_end_date_before_the_start_on_the_same_row_is_dropped_with_its_place_and_the_row_kept(tmp_path):
    mapping = tmp_path / "m.yaml"
    mapping.write_text("""\
source: book
sources:
  projects: {file: workbook, sheet: Projects}
maps:
  project:
    source: projects
    subject: "project/book-{Acronym|slug:script=any}"
    class: ckg:Project
    properties:
      - {predicate: rdfs:label, column: Acronym, language: en}
      - {predicate: ckg:startDate, column: Start, normalise: date, required: true}
      - {predicate: ckg:endDate, column: End, normalise: date, not_before: ckg:startDate}
""", encoding="utf-8")
    book = write_xlsx(tmp_path / "book.xlsx", {"Projects": [
        ["Acronym", "Start", "End"], ["ONE", "2019/09/22", "2019/09/21"], ["TWO", "2019", "2019/06/30"],
        ["ΗΡΩΝ", "2018/01/01", "2019/12/31"]]})
    result = run_mapping(load_mapping(mapping), {"workbook": InputFile(book, "xlsx", "book.xlsx")})
    assert [(r.sheet, r.row, r.column, r.value, r.action) for r in result.rejects] == [
        ("Projects", 2, "End", "2019/09/21", VALUE_DROPPED)]
    assert "before ckg:startDate 2019-09-22" in result.rejects[0].reason
    assert _objects(result, "project/book-one", CKG + "endDate") == set()
    assert _objects(result, "project/book-one", CKG + "startDate")
    # Within the start year: not known to be out of order, so kept.
    assert _objects(result, "project/book-two", CKG + "endDate")
    # A project named only in Greek letters is imported under an IRI in its own letters, not %-encoded.
    assert _objects(result, "project/book-ηρων", CKG + "endDate")


def test_the_keep_eu_mapping_on_invented_rows_imports_a_greek_acronym_a_partner_without_a_town_and_drops_a_bad_end(
        tmp_path):
    mapping = load_mapping(Path(__file__).resolve().parents[2] / "imports" / "mappings" / "keep-eu.yaml")
    projects, partners = list(mapping.columns_of("projects")), list(mapping.columns_of("partners"))

    def row(columns, **cells):
        return [cells.get(c.replace(" ", "_"), "") for c in columns]

    programme = "2014 - 2020 INTERREG V-A Greece - Bulgaria"
    book = write_xlsx(tmp_path / "keep.xlsx", {
        "Projects (lead partners)": [projects, *(row(projects, Programme=programme, Acronym=a, Project_Name=name,
                                                     Project_start=start, Project_end=end)
                                                 for a, name, start, end in [
                                                     ("ΗΡΩΝ", "Heroes", "2017/10/12", "2019/10/11"),
                                                     ("SMILE", "Smiles", "2017/10/12", "2017/10/11")])],
        "Partners": [partners, *(row(partners, Programme=programme, Acronym=a, Project_Partner=who, Lead_Partner=lead,
                                     Town=town, Country_code=country)
                                 for a, who, lead, town, country in [
                                     ("ΗΡΩΝ", "Municipality of Serres", "Yes", "Serres", "EL Greece / ΕΛΛΑΔΑ (ELLADA)"),
                                     ("ΗΡΩΝ", "Geological Survey", "No", "", "BG Bulgaria / БЪЛГАРИЯ (BULGARIA)"),
                                     ("SMILE", "Clinic of Kavala", "Yes", "Kavala", "EL Greece / ΕΛΛΑΔΑ (ELLADA)")])],
    })
    result = run_mapping(mapping, {"workbook": InputFile(book, "xlsx", "keep.xlsx")})
    assert [(r.sheet, r.row, r.column, r.action) for r in result.rejects] == [
        ("Projects (lead partners)", 3, "Project end", VALUE_DROPPED)]
    heroes = "project/keep-2014-2020-interreg-v-a-greece-bulgaria-ηρων"
    assert _objects(result, heroes, CKG + "acronym") == {Literal("ΗΡΩΝ")}
    assert _objects(result, "project/keep-2014-2020-interreg-v-a-greece-bulgaria-smile", CKG + "endDate") == set()
    # The partner without a town is imported, in its country, based in no city.
    survey = "organisation/keep-bg-geological-survey"
    assert _objects(result, survey, CKG + "country") == {NamedNode(ID + "country/bg")}
    assert _objects(result, survey, CKG + "basedIn") == set()
    assert _objects(result, "participation/keep-2014-2020-interreg-v-a-greece-bulgaria-ηρων-bg-geological-survey",
                    CKG + "inProject") == {NamedNode(ID + heroes)}


def test_the_urbact_mapping_gives_a_city_without_a_geonames_entry_its_own_name_and_no_geonames_link(tmp_path):
    # The table writes geonameId "GN00" and asciiName "NA" for Morne-à-l'Eau: it was labelled "NA" (and
    # "City of NA") and linked to a GeoNames page that does not exist.
    mapping = load_mapping(Path(__file__).resolve().parents[2] / "imports" / "mappings" / "urbact.yaml")
    networks, members = list(mapping.columns_of("networks")), list(mapping.columns_of("memberships"))

    def csv_file(name, columns, rows):
        path = tmp_path / name
        path.write_text("\n".join(";".join(r.get(c, "") for c in columns) for r in [dict(zip(columns, columns)), *rows])
                        + "\n", encoding="utf-8")
        return InputFile(path, "csv", name, ";")

    common = {"Code_Network": "13", "Network": "CityMobilNet"}
    files = {
        "networks": csv_file("n.csv", networks, [{**common, "Name": "CityMobilNet", "Start": "2016",
                                                  "Phase": "Urbact III"}]),
        "memberships": csv_file("m.csv", members, [
            {**common, "NameCity": "Morne-à-l’Eau", "CodeCity": "FR20", "Country": "FR", "City.Statut": "Partner",
             "geonameId": "GN00", "asciiName": "NA", "lng_GN": "NA", "lat_GN": "NA"},
            {**common, "NameCity": "Bielefeld", "CodeCity": "DE1", "Country": "DE", "City.Statut": "Lead Partner",
             "geonameId": "2949186", "asciiName": "Bielefeld", "lng_GN": "8,53", "lat_GN": "52,03"}]),
    }
    result = run_mapping(mapping, files)
    assert result.rejects == []
    rdfs_label, exact = "http://www.w3.org/2000/01/rdf-schema#label", "http://www.w3.org/2004/02/skos/core#exactMatch"
    assert _objects(result, "city/gn-GN00", rdfs_label) == {Literal("Morne-à-l’Eau", language="en")}
    assert _objects(result, "organisation/municipality-gn-GN00", rdfs_label) == {
        Literal("City of Morne-à-l’Eau", language="en")}
    assert _objects(result, "city/gn-GN00", exact) == set()
    assert _objects(result, "city/gn-GN00", CKG + "sourceIdentifier") == {Literal("urbact-city:FR20")}
    assert _objects(result, "city/gn-2949186", exact) == {NamedNode("https://sws.geonames.org/2949186/")}
    assert _objects(result, "city/gn-2949186", rdfs_label) == {Literal("Bielefeld", language="en")}
