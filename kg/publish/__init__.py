"""Stage 6: what a build publishes beside the store for the server to read: dumps, network files, and the
site's figures (VoID/DCAT) and pages (sitemap)."""
