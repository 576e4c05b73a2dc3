"""Ad hoc SPARQL on a built store (run) and the named-query catalogue with its typed parameters (catalogue)."""
