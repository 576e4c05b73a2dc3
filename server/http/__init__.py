"""HTTP concerns every blueprint shares, each in one place: content negotiation (negotiation), the response
cache (cache), the ETag rule (etag) and the headers every HTML page carries (pages_headers)."""
