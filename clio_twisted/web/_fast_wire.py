"""Bytes of the lean HTTP front's responses: status lines, headers, and a Date header cached per second.

Kept apart from the protocol so the framing is one small, testable thing. The
headers are those Twisted Web sends for the same answers (Content-Type,
Content-Length, Date, Server), plus ``Connection: close`` when the connection
ends after this response.
"""

from __future__ import annotations

from twisted.web.http import datetimeToString

REASONS = {
    100: b"Continue",
    200: b"OK",
    400: b"Bad Request",
    408: b"Request Timeout",
    413: b"Payload Too Large",
    431: b"Request Header Fields Too Large",
    500: b"Internal Server Error",
    501: b"Not Implemented",
    503: b"Service Unavailable",
}

JSON = b"application/json"
TEXT = b"text/plain; charset=utf-8"
SERVER = b"clio-twisted"
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


class DateHeader:
    """``Date: ...`` formatted once per second of the injected clock, not once per response."""

    def __init__(self) -> None:
        self._second = -1
        self._line = b""

    def line(self, now: float) -> bytes:
        second = int(now)
        if second != self._second:
            self._second = second
            self._line = b"Date: " + datetimeToString(second) + b"\r\n"
        return self._line


def response(status: int, content_type: bytes, body: bytes, date_line: bytes, close: bool) -> bytes:
    """One whole HTTP/1.1 response."""
    reason = REASONS.get(status, b"Unknown")
    return b"".join(
        (
            b"HTTP/1.1 %d %s\r\n" % (status, reason),
            date_line,
            b"Server: " + SERVER + b"\r\nContent-Type: " + content_type,
            b"\r\nContent-Length: %d\r\n" % len(body),
            b"Connection: close\r\n\r\n" if close else b"\r\n",
            body,
        )
    )


def rebuild_request(
    method: bytes,
    url: bytes,
    version: str,
    headers: list[tuple[bytes, bytes]],
    body: bytes | None,
) -> bytes:
    """A parsed request as canonical HTTP/1.x bytes for Twisted Web (framing headers redone).

    With ``body`` None the head is rebuilt as received (an upgrade: the bytes
    after it belong to the next protocol); otherwise the body, already
    de-chunked, goes with its own Content-Length.
    """
    lines = [b"%s %s HTTP/%s\r\n" % (method, url, version.encode("ascii"))]
    for name, value in headers:
        lowered = name.lower()
        if body is not None and lowered in (b"content-length", b"transfer-encoding"):
            continue
        lines.append(name + b": " + value + b"\r\n")
    if body is not None and (body or method == b"POST"):
        lines.append(b"Content-Length: %d\r\n" % len(body))
    lines.append(b"\r\n")
    if body:
        lines.append(body)
    return b"".join(lines)
