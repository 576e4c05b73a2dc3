"""Stage 3: entailments. The owlrl reference (reference) and the SPARQL rules the store runs (rules), side by side."""
