"""Answers that are one message for a program: plain UTF-8 text ending with a newline, with a status."""

from __future__ import annotations

from flask import Response


def plain_text(message: str, status: int = 200) -> Response:
    return Response(message.rstrip() + "\n", status=status, content_type="text/plain; charset=utf-8")
