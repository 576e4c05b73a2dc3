"""Stage 5: where a built KG lives: the embedded Oxigraph store (embedded), a SPARQL server (remote), build folders
and the atomic switch."""
