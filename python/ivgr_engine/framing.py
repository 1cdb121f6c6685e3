"""Content-Length framing (the LSP / vscode-jsonrpc base protocol), strict.

A message is `Content-Length: N\r\n` (other headers allowed and ignored), a blank
line, then N bytes of UTF-8 JSON.
"""

from __future__ import annotations

import json
from typing import BinaryIO

MAX_MESSAGE_BYTES = 64 * 1024 * 1024
MAX_HEADER_BYTES = 8192


class FramingError(Exception):
    """The byte stream is not valid framing; the connection cannot continue."""


class PayloadError(Exception):
    """A well-framed message whose body is not JSON; the connection can continue."""


def read_message(stream: BinaryIO) -> object | None:
    """Returns the decoded JSON body, or None at end of stream."""
    length: int | None = None
    header_bytes = 0
    first = True
    while True:
        line = stream.readline(MAX_HEADER_BYTES + 1)
        if not line:
            if first:
                return None
            raise FramingError("stream ended inside a message header")
        first = False
        header_bytes += len(line)
        if header_bytes > MAX_HEADER_BYTES or not line.endswith(b"\r\n"):
            raise FramingError("message header is too long or not terminated by CRLF")
        if line == b"\r\n":
            break
        name, sep, value = line[:-2].decode("ascii", errors="replace").partition(":")
        if not sep:
            raise FramingError(f"malformed header line {line[:80]!r}")
        if name.strip().lower() == "content-length":
            try:
                length = int(value.strip())
            except ValueError:
                raise FramingError(f"Content-Length is not an integer: {value.strip()[:40]!r}") from None
    if length is None or length < 0:
        raise FramingError("message has no Content-Length header")
    if length > MAX_MESSAGE_BYTES:
        raise FramingError(f"message of {length} bytes exceeds the {MAX_MESSAGE_BYTES}-byte limit")
    body = stream.read(length)
    if len(body) != length:
        raise FramingError("stream ended inside a message body")
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise PayloadError(f"message body is not valid JSON: {e}") from None


def encode_message(obj: object) -> bytes:
    body = json.dumps(obj, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")
    return b"Content-Length: " + str(len(body)).encode("ascii") + b"\r\n\r\n" + body
