"""The importer: published exports mapped to RDF, reconciled with the KG, with a source for every record."""
