"""What every HTML page of the site tells a program that lands on it: the page was chosen by the Accept header
(`Vary: Accept`, so caches keep the page and the RDF apart; not on a URL that names its form, such as
/id/project/conet.html), and where its machine-readable description is
(`Link: <...>; rel="describedby"`). A page that describes one resource names that resource's RDF itself; any
other page names the dataset's description."""

from __future__ import annotations

from flask import Flask, Response, g

DESCRIBEDBY = 'rel="describedby"'


def fixed_form(name: str | None) -> str | None:
    """Note that the URL itself (an extension, ?format=) chose the form `name`: the answer does not vary on Accept."""
    if name is not None:
        g.kg_fixed_form = name
    return name


def describedby(href: str, media_type: str = "text/turtle") -> str:
    return f'<{href}>; {DESCRIBEDBY}; type="{media_type}"'


def install(app: Flask, dataset_description: str) -> None:
    """Add the two headers to every text/html answer of `app`; `dataset_description` is the path of the VoID."""

    @app.after_request
    def _html_headers(response: Response) -> Response:
        if response.mimetype != "text/html":
            return response
        if not g.get("kg_fixed_form"):
            response.vary.add("Accept")
        link = response.headers.get("Link", "")
        if DESCRIBEDBY not in link:
            response.headers["Link"] = ", ".join(filter(None, (link, describedby(dataset_description))))
        return response
