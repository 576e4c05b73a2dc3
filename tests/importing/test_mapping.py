"""The mapping file: the three real mappings load, and every mistake in a mapping is an error at file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from kg.errors import InputError
from kg.importing.mapping import load_mapping

PROJECT = Path(__file__).resolve().parents[2]
MAPPINGS = sorted((PROJECT / "imports" / "mappings").glob("*.yaml"))

GOOD = """\
source: demo
sources:
  rows:
    file: main
maps:
  thing:
    source: rows
    subject: "project/demo-{id|slug}"
    class: ckg:Project
    properties:
      - {predicate: rdfs:label, column: name, language: en}
"""


@pytest.mark.parametrize("path", MAPPINGS, ids=lambda p: p.name)
def test_the_committed_mappings_load(path):
    mapping = load_mapping(path)
    assert mapping.source == path.stem
    assert mapping.maps


def test_a_template_is_compiled_once_into_text_and_placeholders_with_their_normalisers(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text(GOOD.replace("{id|slug}", "{Programme|slug}-{Country|country:scheme=iso|lower}"))
    subject = load_mapping(path).maps["thing"].subject
    assert subject.prefix == "https://w3id.org/cohesion-kg/id/"
    assert subject.columns == ["Programme", "Country"]
    assert subject.parts[3].normalisers == (("country", (("scheme", "iso"),)), ("lower", ()))


@pytest.mark.parametrize("old, new, line, message", [
    ("    class: ckg:Project\n", "    class: ckg:Project\n    colour: red\n", 10, "unknown key 'colour'"),
    ("class: ckg:Project", "class: nope:Project", 9, "not an absolute IRI or a name with a known prefix"),
    ("{id|slug}", "{id|sluggify}", 8, "unknown normaliser 'sluggify'"),
    ("{id|slug}", "{id|slug", 8, "unbalanced brace"),
    ("    source: rows\n", "    source: lines\n", 7, "no logical source 'lines'"),
    ("column: name, language: en", "column: name, template: '{x}'", 11, "exactly one of"),
    ("column: name, language: en", "map: other", 11, "no map 'other'"),
    ("column: name, language: en", "column: name, language: 'e n'", 11, "is not a language tag"),
    ("column: name, language: en", "column: name, when: {column: x, matches: '('}", 11, "not a valid regular expression"),
    ("    file: main\n", "", 3, "must be a mapping"),
    ("column: name, language: en", "constant: ckg:x, not_before: ckg:startDate", 11, "not_before is for an optional"),
    ("column: name, language: en", "column: name, required: true, not_before: ckg:startDate", 11,
     "not_before is for an optional"),
])
def test_a_mistake_in_a_mapping_names_the_file_and_line(tmp_path, old, new, line, message):
    path = tmp_path / "m.yaml"
    assert old in GOOD
    path.write_text(GOOD.replace(old, new, 1))
    with pytest.raises(InputError) as e:
        load_mapping(path, display="imports/mappings/m.yaml")
    assert e.value.where == f"imports/mappings/m.yaml:{line}", str(e.value)
    assert message in e.value.message


def test_yaml_that_does_not_parse_is_an_error_with_line_and_column(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text(GOOD + "  broken: [\n")
    with pytest.raises(InputError, match="not valid YAML") as e:
        load_mapping(path, display="m.yaml")
    assert e.value.where.startswith("m.yaml:")


def test_a_duplicate_key_is_refused_rather_than_silently_overwritten(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text(GOOD.replace("    class: ckg:Project\n", "    class: ckg:Project\n    class: ckg:City\n"))
    with pytest.raises(InputError, match="duplicate key 'class'"):
        load_mapping(path)


def test_joins_that_go_round_in_a_circle_are_refused(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text("""\
source: demo
sources:
  a: {file: f}
  b: {file: g}
maps:
  x:
    source: a
    subject: "project/{id}"
    properties:
      - {predicate: ckg:partnerIn, map: y, join: {id: id}}
  y:
    source: b
    subject: "project/{id}"
    properties:
      - {predicate: ckg:partnerIn, map: x, join: {id: id}}
""")
    with pytest.raises(InputError, match="go round in a circle"):
        load_mapping(path)
