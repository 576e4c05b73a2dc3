"""The pages' two languages: which one a reader gets, the interface's words, and values shown in it.

The KG labels everything in English and Italian; a page is in the reader's language (?lang= first, then
Accept-Language, else English) and falls back to the other one where a value exists only there.
"""

from __future__ import annotations

from flask import request

LANGUAGES = ("en", "it")
DEFAULT = "en"


def reader_language() -> str:
    """?lang= when it names a language we have, else the best of Accept-Language (werkzeug's parser), else English."""
    asked = request.args.get("lang", "").strip().lower()
    if asked in LANGUAGES:
        return asked
    return request.accept_languages.best_match(LANGUAGES, default=DEFAULT)


def chosen_explicitly() -> bool:
    """True when the reader picked the language with ?lang=, which links then carry on to the next page."""
    return request.args.get("lang", "").strip().lower() in LANGUAGES


def preference(lang: str) -> tuple[str, ...]:
    """Languages to try, best first: the reader's, the other one of ours, then untagged text."""
    return (lang, *[other for other in LANGUAGES if other != lang], "")


def pick(texts: dict[str, list[str]], lang: str) -> tuple[str, str] | None:
    """One text out of {language tag: texts}, with its tag: the reader's language, the other one, untagged, any."""
    for tag in (*preference(lang), *sorted(texts)):
        if texts.get(tag):
            return sorted(texts[tag])[0], tag
    return None


MONTHS = {
    "en": ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"],
    "it": ["gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre", "ottobre",
           "novembre", "dicembre"],
}

XSD = "http://www.w3.org/2001/XMLSchema#"


def date_text(value: str, datatype: str | None, lang: str) -> str:
    """xsd:date, gYearMonth and gYear as people write them ("21 April 2008", "aprile 2008"); anything else as is."""
    parts = value.split("-")
    try:
        if datatype == XSD + "date" and len(parts) == 3:
            return f"{int(parts[2])} {MONTHS[lang][int(parts[1]) - 1]} {parts[0]}"
        if datatype == XSD + "gYearMonth" and len(parts) == 2:
            return f"{MONTHS[lang][int(parts[1]) - 1]} {parts[0]}"
    except (ValueError, IndexError):
        pass
    return value


# Names of the terms of other vocabularies that the KG uses; its own terms are labelled in the ontology.
TERM_LABELS = {
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#type": ("type", "tipo"),
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#subject": ("subject", "soggetto"),
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#predicate": ("property", "proprietà"),
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#object": ("value", "valore"),
    "http://www.w3.org/2000/01/rdf-schema#label": ("label", "etichetta"),
    "http://www.w3.org/2000/01/rdf-schema#comment": ("comment", "commento"),
    "http://www.w3.org/2000/01/rdf-schema#seeAlso": ("see also", "vedi anche"),
    "http://www.w3.org/2000/01/rdf-schema#subClassOf": ("subclass of", "sottoclasse di"),
    "http://www.w3.org/2000/01/rdf-schema#subPropertyOf": ("subproperty of", "sottoproprietà di"),
    "http://www.w3.org/2000/01/rdf-schema#domain": ("domain", "dominio"),
    "http://www.w3.org/2000/01/rdf-schema#range": ("range", "codominio"),
    "http://www.w3.org/2002/07/owl#inverseOf": ("inverse of", "inversa di"),
    "http://www.w3.org/2002/07/owl#Class": ("class", "classe"),
    "http://www.w3.org/2002/07/owl#ObjectProperty": ("object property", "proprietà di oggetto"),
    "http://www.w3.org/2002/07/owl#DatatypeProperty": ("datatype property", "proprietà di dato"),
    "http://www.w3.org/2002/07/owl#FunctionalProperty": ("functional property", "proprietà funzionale"),
    "http://www.w3.org/2002/07/owl#Ontology": ("ontology", "ontologia"),
    "http://www.w3.org/2002/07/owl#propertyChainAxiom": ("property chain", "catena di proprietà"),
    "http://www.w3.org/2002/07/owl#versionIRI": ("version IRI", "IRI della versione"),
    "http://www.w3.org/2002/07/owl#versionInfo": ("version", "versione"),
    "http://purl.org/dc/terms/source": ("source", "fonte"),
    "http://purl.org/dc/terms/title": ("title", "titolo"),
    "http://purl.org/dc/terms/alternative": ("alternative title", "titolo alternativo"),
    "http://purl.org/dc/terms/description": ("description", "descrizione"),
    "http://purl.org/dc/terms/identifier": ("identifier", "identificativo"),
    "http://purl.org/dc/terms/language": ("language", "lingua"),
    "http://purl.org/dc/terms/spatial": ("place", "luogo"),
    "http://purl.org/dc/terms/subject": ("subject", "argomento"),
    "http://purl.org/dc/terms/creator": ("creator", "autore"),
    "http://purl.org/dc/terms/publisher": ("publisher", "editore"),
    "http://purl.org/dc/terms/license": ("licence", "licenza"),
    "http://purl.org/dc/terms/created": ("created", "creato"),
    "http://purl.org/dc/terms/modified": ("modified", "modificato"),
    "http://purl.org/dc/terms/isPartOf": ("part of", "parte di"),
    "http://purl.org/dc/terms/hasPart": ("has part", "comprende"),
    "http://purl.org/dc/terms/issued": ("issued", "pubblicato"),
    "http://purl.org/dc/terms/type": ("type", "tipo"),
    "http://www.w3.org/2004/02/skos/core#prefLabel": ("preferred label", "etichetta preferita"),
    "http://www.w3.org/2004/02/skos/core#altLabel": ("alternative label", "etichetta alternativa"),
    "http://www.w3.org/2004/02/skos/core#inScheme": ("in scheme", "nello schema"),
    "http://www.w3.org/2004/02/skos/core#topConceptOf": ("top concept of", "concetto principale di"),
    "http://www.w3.org/2004/02/skos/core#hasTopConcept": ("top concept", "concetto principale"),
    "http://www.w3.org/2004/02/skos/core#broader": ("broader", "più generale"),
    "http://www.w3.org/2004/02/skos/core#narrower": ("narrower", "più specifico"),
    "http://www.w3.org/2004/02/skos/core#exactMatch": ("same as", "corrisponde a"),
    "http://www.w3.org/2004/02/skos/core#closeMatch": ("close to", "simile a"),
    "http://www.w3.org/2004/02/skos/core#definition": ("definition", "definizione"),
    "http://www.w3.org/2004/02/skos/core#notation": ("code", "codice"),
    "https://schema.org/url": ("website", "sito web"),
    "https://schema.org/sameAs": ("same as", "stessa entità di"),
    "https://schema.org/email": ("e-mail", "e-mail"),
    "http://purl.org/vocab/vann/preferredNamespacePrefix": ("preferred prefix", "prefisso preferito"),
    "http://purl.org/vocab/vann/preferredNamespaceUri": ("namespace", "spazio dei nomi"),
}

# The interface's own words. Keys are the English text, so templates stay readable.
WORDS = {
    "Home": "Home",
    "Queries": "Interrogazioni",
    "Network": "Rete",
    "Data & dumps": "Dati e dump",
    "Ontology": "Ontologia",
    "Language": "Lingua",
    "Facts": "Fatti",
    "Property": "Proprietà",
    "Value": "Valore",
    "Values": "Valori",
    "Inferred facts": "Fatti dedotti",
    "inferred by OWL RL reasoning from the facts above and the ontology":
        "dedotti con il ragionamento OWL RL dai fatti qui sopra e dall'ontologia",
    "Referenced by": "Citato da",
    "Resource": "Risorsa",
    "Sources": "Fonti",
    "Source": "Fonte",
    "sources": "fonti",
    "This resource in RDF": "Questa risorsa in RDF",
    "Partners": "Partner",
    "Organisation": "Organizzazione",
    "Role": "Ruolo",
    "Roles": "Ruoli",
    "City": "Città",
    "Country": "Paese",
    "Project": "Progetto",
    "Projects": "Progetti",
    "Organisations": "Organizzazioni",
    "Cities": "Città",
    "Countries": "Paesi",
    "Events": "Eventi",
    "Event": "Evento",
    "Outputs": "Risultati",
    "Output": "Risultato",
    "Date": "Data",
    "Place": "Luogo",
    "Funding": "Finanziamento",
    "Funded by": "Finanziato da",
    "Funding programmes": "Programmi di finanziamento",
    "Themes": "Temi",
    "Theme": "Tema",
    "Period": "Periodo",
    "Level": "Livello",
    "Levels below": "Livelli inferiori",
    "Participations": "Partecipazioni",
    "Where the sources disagree": "Dove le fonti non concordano",
    "Claim": "Affermazione",
    "Claims": "Affermazioni",
    "Claimed value": "Valore affermato",
    "about": "riguarda",
    "Classes": "Classi",
    "Class": "Classe",
    "Description": "Descrizione",
    "Properties": "Proprietà",
    "Superclasses": "Superclassi",
    "Subclasses": "Sottoclassi",
    "Properties with this domain": "Proprietà con questo dominio",
    "Properties with this range": "Proprietà con questo codominio",
    "Superproperties": "Superproprietà",
    "Subproperties": "Sottoproprietà",
    "Domain": "Dominio",
    "Range": "Codominio",
    "Inverse": "Inversa",
    "Property chain": "Catena di proprietà",
    "Kind": "Tipo",
    "Acronym": "Acronimo",
    "Number": "Numero",
    "triples": "triple",
    "Named graph": "Grafo con nome",
    "See its first triples in the SPARQL endpoint": "Vedere le sue prime triple nell'endpoint SPARQL",
    "This graph in RDF": "Questo grafo in RDF",
    "In numbers": "In cifre",
    "Explore": "Esplora",
    "Not found": "Non trovato",
    "Bad request": "Richiesta non valida",
    "Service unavailable": "Servizio non disponibile",
    "Server error": "Errore del server",
    "Not acceptable": "Non accettabile",
    "Back to the home page": "Torna alla pagina iniziale",
    "Native name": "Nome originale",
    "from": "dal",
    "to": "al",
    "Based in": "Con sede a",
    "Governs": "Amministra",
    "Organisations based here": "Organizzazioni con sede qui",
    "Events held here": "Eventi tenuti qui",
    "Projects funded at this level or below": "Progetti finanziati a questo livello o sotto",
    "Programme hierarchy": "Gerarchia del programma",
    "Participants with this role": "Partecipanti con questo ruolo",
    "Used as the object of": "Usato come oggetto di",
}


def translate(text: str, lang: str) -> str:
    """The interface text in `lang`; English is the key itself."""
    if lang == "it":
        return WORDS.get(text, text)
    return text


def term_label(iri: str, lang: str) -> str | None:
    """The name of a term of another vocabulary, when we give it one."""
    names = TERM_LABELS.get(iri)
    if names is None:
        return None
    return names[LANGUAGES.index(lang)]
