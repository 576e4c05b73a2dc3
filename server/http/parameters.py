"""Query-string parameters that are numbers: one reading, one wording of what is wrong, for every route."""

from __future__ import annotations

from flask import request


class BadParameter(ValueError):
    """A parameter that cannot be used; str() names it and says why ("limit: 'abc' is not a whole number")."""


def whole_number(name: str, default: int, lowest: int, highest: int) -> int:
    """The request's `name` as a whole number within lowest..highest; `default` when it is absent or empty."""
    text = request.args.get(name)
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise BadParameter(f"{name}: {text!r} is not a whole number") from None
    if not lowest <= value <= highest:
        raise BadParameter(f"{name}: must be between {lowest} and {highest}, not {value}")
    return value
