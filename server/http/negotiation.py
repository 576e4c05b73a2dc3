"""Content negotiation: the one place the Accept header is read (werkzeug's MIMEAccept parses it).

Each view names the forms it can answer in, best first; `choose` picks one from an explicit `?format=` (for
links) or else from the Accept header. What a view does when nothing fits (406, a fallback) stays the view's.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import request

HTML = "text/html"


@dataclass(frozen=True)
class Form:
    """A representation a view offers: its name, its media type, and other words `?format=` may use for it."""

    name: str
    media_type: str
    aliases: tuple[str, ...] = ()

    def named(self, word: str) -> bool:
        return word in (self.name, self.media_type, *self.aliases)


class UnknownFormat(ValueError):
    """`?format=` names none of the forms offered."""

    def __init__(self, word: str):
        super().__init__(word)
        self.word = word


def from_parameter(forms: list[Form], word: str | None) -> str | None:
    """The name of the form `word` (a `?format=` value) names; None when no word was given."""
    if not word or not word.strip():
        return None
    wanted = word.strip().lower()
    found = next((f for f in forms if f.named(wanted)), None)
    if found is None:
        raise UnknownFormat(wanted)
    return found.name


def from_accept(forms: list[Form], without_header: str | None, otherwise: str | None = None) -> str | None:
    """The name of the form the Accept header prefers (ties go to the earlier form); `without_header` when the
    request states no preference; `otherwise` when it accepts none of the forms (None: the view answers 406)."""
    accept = request.accept_mimetypes
    if not accept:
        return without_header
    best = accept.best_match([f.media_type for f in forms])
    if best is None:
        return otherwise
    return next(f.name for f in forms if f.media_type == best)


def choose(forms: list[Form], without_header: str | None, parameter: str | None = None,
           otherwise: str | None = None) -> str | None:
    """`?format=` (the `parameter` given) when there is one, else the Accept header: see from_accept."""
    named = from_parameter(forms, parameter)
    return named if named is not None else from_accept(forms, without_header, otherwise)


def wants_html() -> bool:
    """Whether the client prefers a page to plain text (browsers name text/html; programs seldom do)."""
    return from_accept([Form("html", HTML), Form("text", "text/plain")], "text") == "html"
