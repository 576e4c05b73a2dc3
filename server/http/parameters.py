"""Query-string parameters that are numbers: one reading, one wording of what is wrong, for every route."""

from __future__ import annotations

from flask import request


class BadParameter(ValueError):
    """A parameter that cannot be used; str() names it and says why ("limit: 'abc' is not a whole number"), and so
    do `name` and `reason`, for routes that word their errors otherwise."""

    def __init__(self, name: str, reason: str):
        super().__init__(f"{name}: {reason}")
        self.name, self.reason = name, reason


def whole_number(name: str, default: int, lowest: int, highest: int) -> int:
    """The request's `name` as a whole number within lowest..highest; `default` when it is absent or empty."""
    text = request.args.get(name)
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise BadParameter(name, f"{text!r} is not a whole number") from None
    if not lowest <= value <= highest:
        raise BadParameter(name, f"must be between {lowest} and {highest}, not {value}")
    return value
