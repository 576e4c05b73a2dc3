"""Stage 4: SHACL validation. The pyshacl reference (shacl), the shapes compiled to SPARQL (compiled), the
checks SHACL cannot express (checks, checks_store) and the report formats (formats)."""
