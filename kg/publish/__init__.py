"""Stage 6: what a build publishes beside the store: dumps, VoID/DCAT, network files."""
