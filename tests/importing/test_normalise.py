"""The value normalisers: each on invented values, as properties where they fit, and on every value of the
real exports (read in place from ../shared/datasets), which must normalise or give a NormaliseError."""

from __future__ import annotations

import datetime as dt
import doctest
import json
import math
import os
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rdflib import Graph, URIRef
from rdflib.namespace import RDF

from kg.importing import normalise
from kg.importing.normalise import (XSD_BOOLEAN, XSD_DATE, XSD_DECIMAL, XSD_GYEAR, XSD_GYEARMONTH, XSD_INTEGER,
                                    NORMALISERS, NormaliseError, apply, check, country_name, describe)

ROOT = Path(__file__).resolve().parents[2]
DATASETS = ROOT.parent / "shared" / "datasets"


def raises(name: str, value, match: str, **args):
    with pytest.raises(NormaliseError, match=match):
        apply(name, value, **args)


# --- the registry -------------------------------------------------------------------------------------------

def test_every_docstring_example_holds():
    result = doctest.testmod(normalise)
    assert result.attempted > 30 and result.failed == 0


def test_the_registry_holds_the_normalisers_the_design_names():
    assert {"date", "amount", "decimal", "integer", "text_id", "country", "nuts", "role", "text", "lower", "slug",
            "geolocation", "postcode", "url", "email", "boolean"} <= set(NORMALISERS)


def test_describe_gives_each_normaliser_a_summary_and_its_arguments():
    described = {d["name"]: d for d in describe()}
    assert set(described) == set(NORMALISERS)
    assert all(d["summary"] and ">>> " in d["doc"] for d in described.values()), "a summary and an example each"
    assert described["date"]["arguments"] == {"order": "dmy", "min_year": 1900, "max_year": 2100}
    assert described["country"]["arguments"] == {"scheme": "eu"}
    assert described["text_id"]["arguments"] == {}


@pytest.mark.parametrize("value", [None, "", "   ", "\t\n", float("nan")])
def test_a_blank_cell_gives_none(value):
    assert apply("date", value) is None and apply("country", value) is None


def test_nulls_name_the_values_a_source_writes_for_nothing():
    assert apply("decimal", " NA ", nulls=("NA",)) is None
    raises("decimal", "NA", "not a number")


def test_an_unknown_normaliser_is_an_error_naming_the_known_ones():
    raises("dates", "2015", r"unknown normaliser 'dates' \(known: amount, boolean")
    with pytest.raises(NormaliseError, match="unknown normaliser"):
        check("dates", {})


def test_an_argument_a_normaliser_does_not_take_is_an_error_at_load_and_at_run_time():
    with pytest.raises(NormaliseError, match=r"normaliser 'date'.*'ordr'.*it takes: order, min_year, max_year"):
        check("date", {"ordr": "mdy"})
    check("date", {"order": "mdy"})
    raises("date", "2015-09-15", "'ordr'", ordr="mdy")


@pytest.mark.parametrize("name, args", [("date", {"order": "ydm"}), ("country", {"scheme": "un"}),
                                        ("geolocation", {"part": "x"}), ("decimal", {"decimal_mark": ";"})])
def test_an_argument_value_a_normaliser_does_not_know_is_an_error(name, args):
    raises(name, "1", "must be", **args)


# --- dates --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    ("2015-09-15", ("2015-09-15", XSD_DATE)),
    ("2015/09/15", ("2015-09-15", XSD_DATE)),
    ("2015.9.5", ("2015-09-05", XSD_DATE)),
    ("15/09/2015", ("2015-09-15", XSD_DATE)),
    ("15-09-2015", ("2015-09-15", XSD_DATE)),
    ("15.09.2015", ("2015-09-15", XSD_DATE)),
    ("15. 9. 2015", ("2015-09-15", XSD_DATE)),
    ("20150915", ("2015-09-15", XSD_DATE)),
    ("15 September 2015", ("2015-09-15", XSD_DATE)),
    ("Sept. 15, 2015", ("2015-09-15", XSD_DATE)),
    ("2020-12-16 22:28:37", ("2020-12-16", XSD_DATE)),
    ("2015-09-15T00:00:00", ("2015-09-15", XSD_DATE)),
    ("2015-09-15T10:00:00Z", ("2015-09-15", XSD_DATE)),
    (dt.date(2015, 9, 15), ("2015-09-15", XSD_DATE)),
    (dt.datetime(2015, 9, 15, 10, 30), ("2015-09-15", XSD_DATE)),
    (42262, ("2015-09-15", XSD_DATE)),
    (42262.75, ("2015-09-15", XSD_DATE)),
    ("42262.0", ("2015-09-15", XSD_DATE)),
    ("2015-09", ("2015-09", XSD_GYEARMONTH)),
    ("09/2015", ("2015-09", XSD_GYEARMONTH)),
    ("Sep 2015", ("2015-09", XSD_GYEARMONTH)),
    ("2015", ("2015", XSD_GYEAR)),
    (2015, ("2015", XSD_GYEAR)),
    ("2015.0", ("2015", XSD_GYEAR)),
])
def test_dates_in_the_forms_sources_write_them(value, expected):
    assert apply("date", value) == expected


def test_order_mdy_reads_month_first():
    assert apply("date", "09/15/2015", order="mdy") == ("2015-09-15", XSD_DATE)
    assert apply("date", "03/04/2015", order="mdy")[0] == "2015-03-04"
    assert apply("date", "03/04/2015")[0] == "2015-04-03"


@pytest.mark.parametrize("value, reason", [
    ("2019-02-31", "no such day"),
    ("31/02/2019", "no such day"),
    ("09/15/2015", r"no month 15 .*read as dmy"),
    ("15/09/15", "four digits"),
    ("2015-13", "no month 13"),
    ("2150-01-01", "outside 1900-2100"),
    ("1850", "outside"),
    ("next year", "not a date"),
    ("15 Setembro 2015", "unknown month"),
    (True, "not a date"),
    (dt.time(10, 0), "not a date"),
    (-3, "not a date"),
    (float("inf"), "not a date"),
])
def test_dates_that_do_not_exist_or_do_not_parse_are_refused_with_the_reason(value, reason):
    raises("date", value, reason)


@given(st.dates(dt.date(1900, 3, 1), dt.date(2100, 12, 31)), st.sampled_from("-/."),
       st.sampled_from(["ymd", "dmy", "mdy"]), st.booleans())
def test_a_date_written_in_any_order_and_separator_reads_back_as_itself(day, sep, layout, pad):
    d, m = (f"{day.day:02d}", f"{day.month:02d}") if pad else (str(day.day), str(day.month))
    parts = {"ymd": (str(day.year), m, d), "dmy": (d, m, str(day.year)), "mdy": (m, d, str(day.year))}[layout]
    order = "mdy" if layout == "mdy" else "dmy"
    assert apply("date", sep.join(parts), order=order) == (day.isoformat(), XSD_DATE)


# Serials 1900 to 2100 (March to September 1905) are the years the docstring says whole numbers in that range are.
@given(st.dates(dt.date(1905, 10, 1), dt.date(2100, 12, 31)))
def test_an_excel_serial_number_reads_back_as_its_day(day):
    serial = (day - dt.date(1899, 12, 30)).days
    assert apply("date", serial) == (day.isoformat(), XSD_DATE)
    assert apply("date", f"{serial}.0") == (day.isoformat(), XSD_DATE)


def test_a_whole_number_in_the_year_range_is_a_year_not_a_serial():
    assert apply("date", 1918) == ("1918", XSD_GYEAR)
    assert apply("date", 2101) == ("1905-10-01", XSD_DATE)


# --- numbers ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    ("750,000.00", "750000.00"),
    ("750,000", "750000"),
    ("1,171,827.52", "1171827.52"),
    ("1.171.827,52", "1171827.52"),
    ("1 032,00", "1032.00"),
    ("1\u00a0032,50 €", "1032.50"),
    ("EUR 1'234.50", "1234.50"),
    ("0,5", "0.5"),
    ("12.5", "12.5"),
    (758394.29, "758394.29"),
    (1.732084396e7, "17320843.96"),
    ("1e+16", "10000000000000000"),
    (88000000, "88000000"),
    ("0.0", "0.0"),
])
def test_amounts(value, expected):
    assert apply("amount", value) == (expected, XSD_DECIMAL)


@pytest.mark.parametrize("value, reason", [
    ("-5.00", "below the least allowed value 0"),
    ("1,23,456", "grouped wrongly"),
    ("12.34.56,7,8", "not a number"),
    ("about 300", "not a number"),
    ("1.234,5.6", "not a number"),
    (float("nan"), None),
    (True, "not a number"),
])
def test_amounts_that_are_not_amounts_are_refused(value, reason):
    if reason is None:
        assert apply("amount", value) is None  # NaN is what pandas-made sheets hold for an empty cell
    else:
        raises("amount", value, reason)


def test_amount_with_a_decimal_mark_reads_three_decimals():
    assert apply("amount", "1,500", decimal_mark=",")[0] == "1.500"
    assert apply("amount", "-5", min=None)[0] == "-5"


@given(st.decimals(min_value=0, max_value=10**12, places=2, allow_nan=False, allow_infinity=False),
       st.sampled_from(["en", "eu", "plain", "float"]))
def test_an_amount_written_in_any_common_way_reads_back_as_its_value(value, style):
    written = {"en": f"{value:,.2f}", "eu": f"{value:,.2f}".translate(str.maketrans(",.", ".,")),
               "plain": f"{value:.2f}", "float": float(value)}[style]
    lexical, datatype = apply("amount", written)
    assert datatype == XSD_DECIMAL
    if style == "float":
        assert math.isclose(float(lexical), float(value), rel_tol=1e-15)
    else:
        assert Decimal(lexical) == value


@pytest.mark.parametrize("value, expected", [("-8,61099", "-8.61099"), ("41,14961", "41.14961"),
                                             ("1.5", "1.5"), ("1.234,5", "1234.5"), ("1,234.5", "1234.5"),
                                             ("-0,5", "-0.5"), (12, "12")])
def test_decimals_with_a_decimal_point_or_comma(value, expected):
    assert apply("decimal", value) == (expected, XSD_DECIMAL)


def test_decimal_bounds():
    raises("decimal", "91,5", "above the greatest allowed value 90", max=90)
    raises("decimal", "1", "min and max must be numbers", min="low")


@given(st.decimals(min_value=-180, max_value=180, places=5, allow_nan=False, allow_infinity=False))
def test_a_coordinate_with_a_decimal_comma_reads_back_as_its_value(value):
    assert Decimal(apply("decimal", f"{value:.5f}".replace(".", ","))[0]) == value


@pytest.mark.parametrize("value, expected", [("103", "103"), (103.0, "103"), ("103.0", "103"), ("1,032", "1032"),
                                             ("1 032", "1032"), (11, "11")])
def test_integers(value, expected):
    assert apply("integer", value) == (expected, XSD_INTEGER)


def test_an_integer_with_a_fraction_is_refused():
    raises("integer", 103.5, "not a whole number")
    raises("integer", "12", "below", min=20)


@given(st.integers(min_value=0, max_value=10**15))
def test_an_integer_as_a_sheet_reads_it_back_is_itself(n):
    assert apply("integer", float(n) if n < 2**53 else n)[0] == str(n)
    assert apply("text_id", float(n) if n < 2**53 else n) == str(n)


@pytest.mark.parametrize("value, expected", [("Yes", "true"), ("no", "false"), (True, "true"), (False, "false"),
                                             ("TRUE", "true"), ("0", "false"), (1.0, "true"), ("ja", "true")])
def test_booleans(value, expected):
    assert apply("boolean", value) == (expected, XSD_BOOLEAN)


def test_a_boolean_that_is_neither_is_refused():
    raises("boolean", "maybe", "not a yes/no value")


def test_geolocation_gives_latitude_and_longitude():
    assert apply("geolocation", "44.4816891,26.1217839") == (("44.4816891", XSD_DECIMAL), ("26.1217839", XSD_DECIMAL))
    assert apply("geolocation", "-33.9,-70.6", part="lat") == ("-33.9", XSD_DECIMAL)
    assert apply("geolocation", "45.1 7.6", part="long") == ("7.6", XSD_DECIMAL)


@pytest.mark.parametrize("value, reason", [("44.48", "pair"), ("95.0,10.0", "above the greatest allowed value 90"),
                                           ("45.0,190.0", "above the greatest allowed value 180"),
                                           ("north,east", "pair")])
def test_a_geolocation_that_is_not_a_place_on_earth_is_refused(value, reason):
    raises("geolocation", value, reason)


def test_a_refused_point_is_refused_however_it_is_written_and_others_pass():
    fallbacks = ["42.6384261,12.674297"]
    for written in ("42.6384261,12.674297", "42.63842610, 12.6742970", "42,6384261; 12,674297"):
        raises("geolocation", written, "a point the mapping refuses", part="lat", refuse=fallbacks)
    assert apply("geolocation", "42.6384262,12.674297", part="lat", refuse=fallbacks) == ("42.6384262", XSD_DECIMAL)
    raises("geolocation", "45.1,7.6", "refuse is a list", refuse="42.6,12.6")


# --- text ---------------------------------------------------------------------------------------------------

def test_text_trims_collapses_and_drops_control_characters():
    assert apply("text", " Stadt\u00a0\u00a0Zittau\x00 ") == "Stadt Zittau"
    assert apply("text", "Cafe\u0301") == "Café"  # NFC: one code point, as a search finds it
    assert apply("text", "a\r\n\r\n\r\n  b   c ", multiline=True) == "a\n\nb c"
    assert apply("text", 2020.0) == "2020" and apply("text", "103.0") == "103" and apply("text", "4.0") == "4"


def test_text_id_turns_numbers_a_sheet_read_back_into_the_text_meant():
    assert [apply("text_id", v) for v in (103.0, "103.0", "103", 103, " U11 ", 1601063.0)] == \
        ["103", "103", "103", "103", "U11", "1601063"]
    assert apply("text_id", 1.5) == "1.5"
    raises("text_id", "a\nb", "cannot span lines")


def test_lower():
    assert apply("lower", " Public ") == "public"


@pytest.mark.parametrize("value, expected", [("Malmö", "malmo"), ("Gijón", "gijon"), ("København", "kobenhavn"),
                                             ("Łódź", "lodz"), ("Straße 1", "strasse-1"),
                                             ("  ENERGY@SCHOOL ", "energy-school"), ("Productive4.0", "productive4-0"),
                                             (103.0, "103")])
def test_slugs_are_ascii_lower_case_words_joined_by_hyphens(value, expected):
    assert apply("slug", value) == expected


def test_a_slug_needs_latin_letters_or_digits_and_is_cut_at_a_word():
    raises("slug", "Ελλάδα", "no Latin letters or digits")
    assert apply("slug", "alpha beta gamma", max_length=12) == "alpha-beta"
    assert apply("slug", "alphabetagamma", max_length=5) == "alpha"


def test_a_slug_of_any_script_keeps_greek_and_cyrillic_letters_where_there_is_no_latin_one():
    # keep.eu names some projects only by a Greek acronym and has no project id: they were rejected.
    assert apply("slug", "ΑΓΡΟ-ΤΑΥΤΌΤΗΤΑ", script="any") == "αγρο-ταυτοτητα"
    assert apply("slug", "Софиа", script="any") == "софиа"
    raises("slug", "ΑΓΡΟ-ΤΑΥΤΟΤΗΤΑ", "no Latin letters or digits")
    raises("slug", " – ", "no letters or digits", script="any")
    raises("slug", "x", "script is 'latin' or 'any'", script="greek")


@pytest.mark.parametrize("value", ["Città di Torino", "ΕΡΜΗΣ II", "Lithuania’s – century", "Scandria®2Act",
                                   "Buchаrеst", "Straße 1", 103.0])
def test_switching_a_mapping_to_slugs_of_any_script_moves_no_iri_that_had_a_latin_slug(value):
    assert apply("slug", value, script="any") == apply("slug", value)


@pytest.mark.parametrize("end, start, before", [
    (("2018-10-04", XSD_DATE), ("2019", XSD_GYEAR), True),
    (("2019-09-21", XSD_DATE), ("2019-09-22", XSD_DATE), True),
    (("2019-09-22", XSD_DATE), ("2019-09-22", XSD_DATE), False),
    (("2019-06", XSD_GYEARMONTH), ("2019", XSD_GYEAR), False),     # within the year: not known to be out of order
    (("2019", XSD_GYEAR), ("2019-12-31", XSD_DATE), False),
    (("2018-12", XSD_GYEARMONTH), ("2019-01-01", XSD_DATE), True),
    (("someday", "http://www.w3.org/2001/XMLSchema#string"), ("2019", XSD_GYEAR), False),
])
def test_a_period_ends_before_another_starts_only_when_its_last_day_is_before_the_others_first(end, start, before):
    class Term:
        def __init__(self, value, datatype):
            self.value, self.datatype = value, type("Datatype", (), {"value": datatype})()
    assert normalise.ends_before(Term(*end), Term(*start)) is before


def test_repeated_country_codes_are_split_before_any_name_is_looked_up(monkeypatch):
    # Looking "FI;FI" up as a name loaded every language's country names (a second of every import).
    normalise._country.cache_clear()
    monkeypatch.setattr(normalise, "_translated_names", lambda: pytest.fail("names of every language loaded"))
    assert apply("country", "FI;FI") == "FI"
    raises("country", "FI;DE", "several countries")


# --- countries ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    ("DE Germany / DEUTSCHLAND", "DE"), ("EL Greece / ΕΛΛΑΔΑ (ELLADA)", "EL"), ("AD  / Andorra", "AD"),
    ("UK United Kingdom / UNITED KINGDOM", "UK"), ("Germany", "DE"), ("GERMANY", "DE"), ("germany", "DE"),
    ("DE", "DE"), ("de", "DE"), ("DEU", "DE"), ("Deutschland", "DE"), ("Österreich", "AT"), ("Ελλάδα", "EL"),
    ("Greece", "EL"), ("GR", "EL"), ("EL", "EL"), ("GRC", "EL"), ("United Kingdom", "UK"), ("GB", "UK"),
    ("UK", "UK"), ("Great Britain", "UK"), ("Kosovo", "XK"), ("XK", "XK"), ("Czech Republic", "CZ"),
    ("Czechia", "CZ"), ("Russia", "RU"), ("Turkey", "TR"), ("North Macedonia", "MK"), ("Faroe Islands", "FO"),
    ("Bosnia and Herzegovina", "BA"), ("FI;FI", "FI"), ("Switzerland / SCHWEIZ/SUISSE/SVIZZERA", "CH"),
])
def test_countries_become_alpha_2_codes_as_the_eu_writes_them(value, expected):
    assert apply("country", value) == expected


def test_the_iso_scheme_writes_greece_and_the_united_kingdom_as_iso_does():
    assert [apply("country", v, scheme="iso") for v in ("EL", "UK", "Greece", "GB", "DE")] == \
        ["GR", "GB", "GR", "GB", "DE"]


@pytest.mark.parametrize("value, reason", [("Atlantis", "unknown country 'Atlantis'"), ("ZZ", "unknown country"),
                                           ("FI;DE", "several countries"), ("", None)])
def test_an_unknown_country_is_refused(value, reason):
    if reason is None:
        assert apply("country", value) is None
    else:
        raises("country", value, reason)


def test_country_names_in_english_and_italian():
    assert [country_name(c) for c in ("DE", "EL", "UK", "XK", "CZ")] == \
        ["Germany", "Greece", "United Kingdom", "Kosovo", "Czechia"]
    assert [country_name(c, "it") for c in ("DE", "EL", "UK", "XK")] == ["Germania", "Grecia", "Regno Unito", "Kosovo"]
    assert country_name("Deutschland", "fr") == "Allemagne"


def test_country_names_of_the_kg_countries_in_italian_match_the_curated_labels_mostly():
    """pycountry's translations are the reference data for imported countries: they should agree with the
    hand-written Italian labels of data/places/countries.ttl for nearly all of them."""
    g = Graph().parse(ROOT / "data" / "places" / "countries.ttl")
    ckg = "https://w3id.org/cohesion-kg/ontology/"
    pairs = [(str(code), str(label)) for s in g.subjects(RDF.type, URIRef(ckg + "Country"))
             for code in g.objects(s, URIRef(ckg + "iso3166Alpha2"))
             for label in g.objects(s, URIRef("http://www.w3.org/2000/01/rdf-schema#label")) if label.language == "it"]
    agree = sum(country_name(code, "it") == label for code, label in pairs)
    assert pairs and agree >= 0.8 * len(pairs)


# --- NUTS, postcodes, roles, addresses ----------------------------------------------------------------------

@pytest.mark.parametrize("value, args, expected", [("DEG01  / Erfurt, Kreisfreie Stadt", {}, "DEG01"),
                                                   ("ITH  / NORD-EST", {"level": 1}, "ITH"),
                                                   ("el30", {}, "EL30"), ("UKI3", {"level": 2}, "UKI3"),
                                                   ("FRA  / DÉPARTEMENTS D'OUTRE-MER", {"level": 1}, "FRA")])
def test_nuts_codes(value, args, expected):
    assert apply("nuts", value, **args) == expected


@pytest.mark.parametrize("value, args, reason", [("DEG01", {"level": 2}, "level 3 code, not level 2"),
                                                 ("Erfurt", {}, "not a NUTS code"),
                                                 ("QQ123", {}, "'QQ' is not a country"),
                                                 ("  / Thüringen", {}, "not a NUTS code")])
def test_a_nuts_code_of_the_wrong_level_or_form_is_refused(value, args, reason):
    raises("nuts", value, reason, **args)


@pytest.mark.parametrize("value, args, expected", [(8010, {}, "8010"), (8010.0, {}, "8010"), ("8010.0", {}, "8010"),
                                                   ("IT-38122", {}, "IT-38122"), (" 150  00 ", {}, "150 00"),
                                                   ("GU14 0LX,", {}, "GU14 0LX"), (912, {"country": "FI"}, "00912"),
                                                   (912.0, {"country": "Finland"}, "00912"),
                                                   ("184", {"country": "IT"}, "00184"),
                                                   ("2000", {"country": "SI"}, "2000"), (912, {"country": "UK"}, "912")])
def test_postcodes_are_text(value, args, expected):
    assert apply("postcode", value, **args) == expected


@pytest.mark.parametrize("value, expected", [
    ("Lead Partner", "coordinator"), ("Lead partner", "coordinator"), ("LP", "coordinator"),
    ("coordinator", "coordinator"), ("Coordinatore", "coordinator"), ("capofila", "coordinator"),
    ("Partner", "partner"), ("participant", "partner"), ("partner", "partner"), ("PP", "partner"),
    ("thirdParty", "technical-support"), ("associatedPartner", "technical-support"),
    ("Associated partner", "technical-support"), ("Lead expert", "lead-expert"),
    ("Local Support Group", "local-support-group"), ("Mentor city", "mentor-city"),
    ("associated-city", "associated-city"), ("Fellow city", "fellow-city"), ("Regional partner", "regional-partner"),
    ("Expert organisation", "expert-organisation"),
])
def test_roles_become_our_role_concepts(value, expected):
    assert apply("role", value) == expected


def test_an_unknown_role_is_an_error_naming_the_known_ones():
    raises("role", "Sponsor", r"unknown role 'Sponsor' \(known: associated-city, coordinator")


def test_a_mapping_gives_a_sources_own_role_values():
    mapping = {"Yes": "coordinator", "No": "partner"}
    assert [apply("role", v, mapping=mapping) for v in ("Yes", "no", "Lead Partner")] == \
        ["coordinator", "partner", "coordinator"]
    raises("role", "Yes", "unknown role 'chief'", mapping={"Yes": "chief"})


def test_every_role_the_normaliser_gives_is_a_concept_of_the_roles_vocabulary():
    g = Graph().parse(ROOT / "data" / "vocabularies" / "roles.ttl")
    concepts = {str(s).rsplit("/", 1)[1] for s in g.subjects(RDF.type, URIRef("https://w3id.org/cohesion-kg/ontology/Role"))}
    assert set(normalise.ROLES.values()) <= concepts
    assert concepts <= set(normalise.ROLES.values()), "a role concept no source value can reach"


@pytest.mark.parametrize("value, expected", [("www.tugraz.at", "http://www.tugraz.at"),
                                             ("centralbaltic.eu/projects", "http://centralbaltic.eu/projects"),
                                             ("HTTPS://Keep.EU/a/B?x=1#f", "https://keep.eu/a/B?x=1#f"),
                                             ("http://ex.eu/caf\u00e9", "http://ex.eu/caf%C3%A9"),
                                             ("http://ex.eu/a?q=a,b", "http://ex.eu/a?q=a,b")])
def test_web_addresses(value, expected):
    assert apply("url", value) == expected


@pytest.mark.parametrize("value, reason", [("www.uoi.gr / www.rc.uoi.gr", "several web addresses"),
                                           ("www.a.de; www.a.eu", "several web addresses"),
                                           ("not a web address", "not a web address"),
                                           ("mailto:x@y.eu", "not a web address"), ("http://", "not a web address")])
def test_a_cell_that_is_not_one_web_address_is_refused(value, reason):
    raises("url", value, reason)


def test_email():
    assert apply("email", "MAILTO:Info@Example.EU") == "Info@example.eu"
    raises("email", "info at example.eu", "not an e-mail address")


# --- the real exports ---------------------------------------------------------------------------------------

def _require(path: Path) -> Path:
    if not path.exists():
        reason = f"{path} is absent: the real exports live in ../shared/datasets beside the project"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (CI=true: this test may not be skipped)")
        pytest.skip(reason)
    return path


def _xlsx(sheet: str) -> list[dict]:
    from python_calamine import CalamineWorkbook

    rows = CalamineWorkbook.from_path(str(_require(DATASETS / "keep-eu" / "keep_closed_1420.xlsx"))) \
        .get_sheet_by_name(sheet).to_python()
    return [dict(zip(rows[0], r)) for r in rows[1:]]


def _csv(name: str) -> list[dict]:
    import csv

    with open(_require(DATASETS / name), encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f, delimiter=";"))


def _json(name: str) -> list[dict]:
    return json.loads(_require(DATASETS / name).read_text(encoding="utf-8"))


LEAD = {"Yes": "coordinator", "No": "partner"}
PROJECTS = "Projects (lead partners)"
PARTNER_COLUMNS = {"Country": ("country", {}), "Country code": ("country", {}),
                   "NUTS1 (or equivalent)": ("nuts", {"level": 1}), "NUTS2 (or equivalent)": ("nuts", {"level": 2}),
                   "NUTS3 (or equivalent)": ("nuts", {"level": 3}), "Postal code": ("postcode", {}),
                   "Lead Partner": ("role", {"mapping": LEAD}), "Website": ("url", {}), "Legal Status": ("lower", {}),
                   "Acronym": ("text_id", {}), "Project Partner": ("text", {}), "Town": ("text", {})}
# (rows, {column: (normaliser, args)}, {column: number of values expected to be refused})
REAL = {
    "keep-eu projects": (lambda: _xlsx(PROJECTS), {
        "Country": ("country", {}), "Budget": ("amount", {}), "EU Funding": ("amount", {}),
        "ERDF budget": ("amount", {}), "ENI budget": ("amount", {}), "IPA budget": ("amount", {}),
        "ERDF eq. budget": ("amount", {}), "Project start": ("date", {}), "Project end": ("date", {}),
        "Postal code": ("postcode", {}), "Call SN": ("text_id", {}), "Acronym": ("text_id", {}),
        "Website": ("url", {}), "Programme": ("slug", {}), "Project Name": ("text", {}),
        "Description 1": ("text", {"multiline": True})}, {}),
    "keep-eu partners": (lambda: _xlsx("Partners"), PARTNER_COLUMNS, {}),
    "keep-eu calls": (lambda: _xlsx("Calls"), {"Start Date": ("date", {}), "End Date": ("date", {}),
                                               "Budget": ("amount", {}), "Serial Number": ("text_id", {})}, {}),
    "keep-eu partnership csv": (lambda: _csv("keep-eu/keep_closed_1420_Partnership.csv"), PARTNER_COLUMNS, {}),
    "urbact memberships": (lambda: _csv("urbact/URBACT_Membership_GNidCorr_complete_V2.csv"), {
        "Country": ("country", {}), "LeadPartnerCountry": ("country", {}), "City.Statut": ("role", {}),
        "Start": ("date", {}), "End": ("date", {}), "geonameId": ("text_id", {}), "Code_Network": ("text_id", {}),
        "lng_GN": ("decimal", {"min": -180, "max": 180}), "lat_GN": ("decimal", {"min": -90, "max": 90}),
        "Url": ("url", {}), "Sources": ("url", {}), "NameCity": ("text", {}), "asciiName": ("slug", {})}, {}),
    "urbact networks": (lambda: _csv("urbact/UrbactNetworks_complete_V2.csv"), {
        "Start": ("date", {}), "End": ("date", {}), "NbCities": ("integer", {}), "Url": ("url", {}),
        "LeadPartnerCountry": ("country", {}), "Name": ("text", {}), "Aims": ("text", {"multiline": True}),
        "Code_Network": ("text_id", {})}, {}),
    "cordis projects": (lambda: _json("cordis/project.json"), {
        "startDate": ("date", {}), "endDate": ("date", {}), "ecSignatureDate": ("date", {}),
        "contentUpdateDate": ("date", {}), "ecMaxContribution": ("amount", {}), "totalCost": ("amount", {}),
        "id": ("text_id", {}), "acronym": ("text_id", {}), "title": ("text", {})}, {}),
    "cordis organisations": (lambda: _json("cordis/organization.json"), {
        "country": ("country", {}), "ecContribution": ("amount", {}), "netEcContribution": ("amount", {}),
        "totalCost": ("amount", {}), "geolocation": ("geolocation", {}), "postCode": ("postcode", {}),
        "role": ("role", {}), "organizationURL": ("url", {}), "organisationID": ("text_id", {}),
        "SME": ("boolean", {}), "endOfParticipation": ("boolean", {}), "name": ("text", {}),
        "city": ("text", {})},
        {"organizationURL": 2}),  # two organisations give two web addresses in one field
}


def _as_read(value) -> str:
    """A cell as kg.importing.readers passes it on: text, numbers as str() writes them."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)


@pytest.mark.parametrize("source", sorted(REAL))
def test_every_value_of_the_real_exports_normalises_or_gives_a_reason(source):
    """The same result for a cell as the workbook or JSON gives it and as its text; refusals only where the
    value is wrong, each with a reason; and "NA" (URBACT's missing value) as a null."""
    load, columns, expected_refusals = REAL[source]
    rows = load()
    assert rows
    refused = {}
    for column, (name, args) in columns.items():
        assert column in rows[0], f"{source} has no column {column!r}"
        count = 0
        for row in rows:
            value = row[column]
            try:
                result = apply(name, value, nulls=("NA",), **args)
            except NormaliseError as e:
                assert str(value)[:10] in e.reason, f"a reason names the value: {e.reason}"
                count += 1
                continue
            assert apply(name, _as_read(value), nulls=("NA",), **args) == result, (column, name)
        if count:
            refused[column] = count
    assert refused == expected_refusals
