"""Errors are values with a place: `data/projects/conet.ttl:42:7: message`."""

from __future__ import annotations


class KGError(Exception):
    """An error the user can act on. `exit_code` is what the `kg` command exits with: 1 is kept for data that does
    not conform (ValidationFailed, an inconsistent KG), so any other error is 2 unless it says otherwise."""

    exit_code = 2

    def __init__(self, message: str, where: str | None = None):
        super().__init__(message)
        self.message = message
        self.where = where

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class InputError(KGError):
    """Input that cannot be read: a missing file, a syntax error, an unknown option (exit 2)."""

    exit_code = 2


class SourceSyntaxError(InputError):
    def __init__(self, path: str, line: int | None, column: int | None, message: str):
        where = path
        if line is not None:
            where += f":{line}"
            if column is not None:
                where += f":{column}"
        super().__init__(message, where)
        self.path, self.line, self.column = path, line, column


class QueryError(KGError):
    """A query that cannot be parsed or run; `where` is 'query line L column C' when known."""

    exit_code = 2


class StoreError(KGError):
    """A remote store (a SPARQL server) could not be reached, refused a request or answered with an error;
    `where` is the URL asked."""

    exit_code = 2


class StoreTimeout(StoreError):
    """The remote store did not answer in time, or stopped the query itself and said its answer is incomplete."""


class TruncatedResults(StoreError):
    """The remote store cut a result at its own row limit and it could not be completed by paging. `result` is
    what it did return (a pyoxigraph result), `limit` the store's limit."""

    def __init__(self, message: str, where: str | None, result, limit: int):
        super().__init__(message, where)
        self.result, self.limit = result, limit


class ValidationFailed(KGError):
    """The data does not conform to the shapes: a build stops and writes nothing."""

    exit_code = 1

    def __init__(self, report):
        super().__init__(f"validation failed: {report.summary()}")
        self.report = report
