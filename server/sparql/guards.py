"""What the endpoint refuses before a query runs: updates, SERVICE calls the operator did not allow, brackets
nested deep enough to overflow the parser. The query's text is read by kg.sparql_text's lexer; Oxigraph stays
the judge of syntax."""

from __future__ import annotations

from kg.namespaces import PREFIXES
from kg.sparql_text import Token, services

UPDATE_KEYWORDS = {"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH"}


class ProtocolError(Exception):
    def __init__(self, status: int, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


def refuse_what_is_not_a_query(toks: list[Token], max_nesting: int, service_allow) -> None:
    """Raise ProtocolError for what the query's tokens (kg.sparql_text.tokens) show it must not do here."""
    deep = next((t for t in toks if t.kind == "open" and t.depth >= max_nesting), None)
    if deep is not None:
        raise ProtocolError(400, f"query offset {deep.start}: brackets are nested more than {max_nesting} levels deep; this endpoint does not parse such queries")
    first = first_keyword(toks)
    if first in UPDATE_KEYWORDS:
        raise ProtocolError(403, f"this endpoint is read-only: {first} is SPARQL Update and is not accepted")
    allowed = set(service_allow)
    for call in services(toks, PREFIXES):
        if call.target is None or call.target not in allowed:
            where = f"query offset {call.position}"
            target = f"<{call.target}>" if call.target else "a variable endpoint"
            raise ProtocolError(403, f"{where}: SERVICE {target} is not allowed here (federated queries are off unless the operator allow-lists an endpoint)")


def first_keyword(toks) -> str | None:
    skip = 0
    for t in toks:
        if skip:
            skip -= 1
            continue
        if t.kind == "word":
            word = t.text.upper()
            if word == "PREFIX":
                skip = 2
                continue
            if word == "BASE":
                skip = 1
                continue
            return word
    return None
