"""`kg synth`: synthetic data that conforms to the shapes, the same bytes for the same seed, written atomically."""

from __future__ import annotations

import dataclasses
import gzip
import shutil
import tracemalloc
from collections import Counter
from itertools import combinations

import pyoxigraph as ox
import pytest

from kg import cli
from kg.synth import generator as synth
from kg.config import ROOT
from kg.errors import InputError
from kg.namespaces import CKG, GRAPH, ID

ROLE = f"{ID}role/"
PREFIXES = f"PREFIX ckg: <{CKG}>\nPREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"


@pytest.fixture(scope="module")
def reference():
    return synth.read_reference()


def text_of(projects: int, seed: int, reference, fmt: str = "nquads") -> tuple[str, synth.Summary]:
    chunks: list[str] = []
    summary = synth.generate(chunks.append, projects, seed, fmt=fmt, reference=reference)
    return "".join(chunks), summary


@pytest.fixture(scope="module")
def sample(reference):
    """300 projects in a store: enough for hubs and recurring partner pairs to show."""
    text, summary = text_of(300, 7, reference)
    store = ox.Store()
    store.load(text.encode(), format=ox.RdfFormat.N_QUADS)
    return store, summary


def select(store: ox.Store, query: str) -> list[tuple]:
    return [tuple(term.value if term is not None else None for term in row)
            for row in store.query(PREFIXES + query, use_default_graph_as_union=True)]


def test_same_seed_gives_the_same_bytes_and_another_seed_other_data(reference):
    first, _ = text_of(40, 3, reference)
    again, _ = text_of(40, 3, reference)
    other, _ = text_of(40, 4, reference)
    assert first == again
    assert first != other


def test_gzipped_files_of_one_seed_are_byte_identical(tmp_path, reference):
    a, b = tmp_path / "a.nq.gz", tmp_path / "b.nq.gz"
    synth.write(a, 20, 5, reference=reference)
    synth.write(b, 20, 5, reference=reference)
    assert a.read_bytes()[:2] == b"\x1f\x8b", "a .gz name means gzip"
    assert a.read_bytes() == b.read_bytes()
    assert gzip.decompress(a.read_bytes()).decode() == text_of(20, 5, reference)[0]


def test_triples_grow_linearly_with_the_projects(reference):
    small = synth.generate(lambda _: None, 100, 1, reference=reference)
    large = synth.generate(lambda _: None, 1000, 1, reference=reference)
    assert 9 <= large.triples / small.triples <= 11
    assert abs(large.triples / 1000 - synth.TRIPLES_PER_PROJECT) < 0.1 * synth.TRIPLES_PER_PROJECT
    assert synth.projects_for(1_000_000) == pytest.approx(1_000_000 / synth.TRIPLES_PER_PROJECT, abs=1)


def test_output_is_the_canonical_n_quads_pyoxigraph_writes(reference):
    text, summary = text_of(60, 2, reference)
    quads = list(ox.parse(text.encode(), format=ox.RdfFormat.N_QUADS))
    assert len(quads) == summary.triples == len(set(text.splitlines()))
    assert [str(q) + " ." for q in quads] == text.splitlines()  # escaping and all, term by term
    assert {q.graph_name.value for q in quads} == set(synth.GRAPHS.values())
    assert all(g.startswith(f"{GRAPH}synth/") for g in synth.GRAPHS.values())


def test_n_triples_holds_the_same_triples(reference):
    nquads, _ = text_of(20, 2, reference)
    ntriples, _ = text_of(20, 2, reference, fmt="ntriples")
    as_triples = {str(q.triple) for q in ox.parse(nquads.encode(), format=ox.RdfFormat.N_QUADS)}
    assert {str(t) for t in ox.parse(ntriples.encode(), format=ox.RdfFormat.N_TRIPLES)} == as_triples


def test_thirty_projects_conform_as_kg_validate_checks_them(tmp_path, reference, capsys):
    path = tmp_path / "synth.nq"
    synth.write(path, 30, 1, reference=reference)
    code = cli.main(["validate", str(path), "--color", "never"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "0 violations, 0 warnings" in out


def test_every_thing_is_labelled_in_english_and_italian(sample):
    store, _ = sample
    for lang in ("en", "it"):
        missing = select(store, f"""SELECT ?s WHERE {{ ?s a ?class .
            FILTER NOT EXISTS {{ ?s rdfs:label ?l FILTER (lang(?l) = "{lang}") }} }}""")
        assert missing == [], f"no @{lang} label: {missing[:3]}"


def test_every_project_has_exactly_one_coordinator_and_3_to_15_partners(sample):
    store, summary = sample
    rows = select(store, f"""SELECT ?p (COUNT(?part) AS ?n) (SUM(IF(?role = <{ROLE}coordinator>, 1, 0)) AS ?leads) WHERE {{
        ?p a ckg:Project ; ckg:hasParticipation ?part . ?part ckg:inProject ?p ; ckg:role ?role }} GROUP BY ?p""")
    assert len(rows) == summary.projects == 300
    assert {int(leads) for _, _, leads in rows} == {1}
    sizes = [int(n) for _, n, _ in rows]
    assert min(sizes) >= 3 and max(sizes) <= 15 and len(set(sizes)) > 5


def test_partners_are_skewed_so_pairs_recur(sample):
    store, _ = sample
    by_project: dict[str, list[str]] = {}
    for project, org in select(store, "SELECT ?p ?o WHERE { ?x ckg:inProject ?p ; ckg:participant ?o }"):
        by_project.setdefault(project, []).append(org)
    degree = Counter(org for orgs in by_project.values() for org in orgs)
    pairs = Counter(pair for orgs in by_project.values() for pair in combinations(sorted(orgs), 2))
    assert degree.most_common(1)[0][1] >= 20, "some organisations are hubs"
    assert sum(1 for n in degree.values() if n == 1) > len(degree) // 10, "and many take part once"
    assert sum(1 for n in pairs.values() if n >= 2) >= 50, "partner pairs recur"


def test_organisations_are_based_in_cities_of_their_country(sample):
    store, _ = sample
    rows = select(store, "SELECT ?o ?k ?ck WHERE { ?o ckg:basedIn ?c ; ckg:country ?k . ?c a ckg:City ; ckg:country ?ck }")
    assert rows and all(k == ck and k.startswith(f"{ID}country/") for _, k, ck in rows)
    unplaced = select(store, "SELECT ?o WHERE { ?x ckg:participant ?o FILTER NOT EXISTS { ?o ckg:basedIn ?c } }")
    assert unplaced == []


def test_dates_are_in_order(sample):
    store, _ = sample
    rows = select(store, "SELECT ?s WHERE { ?s ckg:startDate ?a ; ckg:endDate ?b FILTER (?b < ?a) }")
    assert rows == []


def test_no_generated_city_repeats_a_real_ones_name(reference):
    def city_labels(ref) -> list[str]:
        text, _ = text_of(5, 1, ref)
        return [q.object.value for q in ox.parse(text.encode(), format=ox.RdfFormat.N_QUADS)
                if q.subject.value.startswith(f"{ID}city/") and q.predicate.value.endswith("#label")
                and q.object.language == "en"]

    names = city_labels(reference)
    taken = dataclasses.replace(reference, taken=reference.taken | {names[0].casefold()})
    renamed = city_labels(taken)
    assert names[0] not in renamed
    assert len(renamed) == len(names) and renamed[1:] == names[1:]


def test_reference_data_that_is_missing_is_an_input_error(tmp_path):
    (tmp_path / "places").mkdir()
    shutil.copy(ROOT / "data" / "places" / "countries.ttl", tmp_path / "places" / "countries.ttl")
    with pytest.raises(InputError, match="missing") as raised:
        synth.read_reference(tmp_path)
    assert raised.value.where.endswith("programmes.ttl")


def test_summarise_lists_the_iris_it_would_write(reference):
    text, written = text_of(25, 9, reference)
    summary = synth.summarise(25, 9, reference=reference)
    assert summary.triples == written.triples
    assert len(summary.iris["project"]) == summary.projects == 25
    assert len(summary.iris["organisation"]) == summary.organisations
    assert len(summary.iris["participation"]) == summary.participations
    assert len(summary.iris["city"]) == summary.cities
    subjects = {str(q.subject.value) for q in ox.parse(text.encode(), format=ox.RdfFormat.N_QUADS)}
    assert all(iri in subjects for kind in summary.iris.values() for iri in kind)


def test_memory_stays_flat_as_projects_grow(reference):
    def peak(projects: int) -> int:
        tracemalloc.start()
        try:
            synth.generate(lambda _: None, projects, 1, reference=reference)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    small, large = peak(100), peak(1000)
    assert large < 1.5 * small, (small, large)
    assert large < 1_000_000


def test_a_failed_run_leaves_no_file(tmp_path, reference, monkeypatch):
    path = tmp_path / "out.nq"
    path.write_text("the previous file\n")
    real = synth._Generator.project

    def failing(self, j):
        if j == 5:
            raise RuntimeError("disk on fire")
        return real(self, j)

    monkeypatch.setattr(synth._Generator, "project", failing)
    with pytest.raises(RuntimeError):
        synth.write(path, 10, 1, reference=reference)
    assert path.read_text() == "the previous file\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.nq"]
    with pytest.raises(RuntimeError):
        synth.write(tmp_path / "new.nq", 10, 1, reference=reference)
    assert not (tmp_path / "new.nq").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["out.nq"]


def test_cli_writes_the_file_and_a_summary_line(tmp_path, capsys):
    path = tmp_path / "sub" / "synth.nt"
    assert cli.main(["synth", "--projects", "5", "--seed", "2", "--format", "ntriples", "-o", str(path)]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("kg synth: ") and "5 projects" in captured.err and "triples/s" in captured.err
    assert len(list(ox.parse(path.read_bytes(), format=ox.RdfFormat.N_TRIPLES))) > 5 * 50


def test_cli_writes_to_standard_output(kg_cmd):
    done = kg_cmd("synth", "--projects", "3", "--seed", "1")
    assert done.returncode == 0, done.stderr
    assert len(list(ox.parse(done.stdout.encode(), format=ox.RdfFormat.N_QUADS))) > 3 * 50
    assert "kg synth: " in done.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (["--projects", "0"], "--projects: must be a positive number of projects, not 0"),
        (["--projects", "-3"], "--projects: must be a positive number of projects, not -3"),
        (["--projects", "2", "-o", "{tmp}/a-file/out.nq"], "cannot be written"),
        (["--projects", "2", "-o", "{tmp}"], "is a folder"),
    ],
)
def test_cli_refuses_bad_arguments_with_exit_2(tmp_path, capsys, args, message):
    (tmp_path / "a-file").write_text("not a folder")
    code = cli.main(["synth", *[a.format(tmp=tmp_path) for a in args]])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and err.startswith("kg: error: ")
    assert "Traceback" not in err


def test_cli_usage_errors_exit_2(capsys):
    for args in (["synth"], ["synth", "--projects", "many"], ["synth", "--projects", "2", "--format", "turtle"]):
        with pytest.raises(SystemExit) as stopped:
            cli.main(args)
        assert stopped.value.code == 2
    capsys.readouterr()
