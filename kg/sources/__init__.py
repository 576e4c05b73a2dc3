"""Stage 1: find and parse the KG's source files, with parse errors located at file:line:column."""
