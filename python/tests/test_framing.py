import io

import pytest

from ivgr_engine.framing import FramingError, PayloadError, encode_message, read_message


def test_round_trip_with_unicode():
    msg = {"jsonrpc": "2.0", "id": 1, "result": {"text": "zoom → 🔍 <box>"}}
    assert read_message(io.BytesIO(encode_message(msg))) == msg


def test_end_of_stream_between_messages_is_none():
    assert read_message(io.BytesIO(b"")) is None


def test_extra_headers_are_ignored():
    body = b'{"a":1}'
    data = b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\nContent-Length: 7\r\n\r\n" + body
    assert read_message(io.BytesIO(data)) == {"a": 1}


@pytest.mark.parametrize("data", [
    b"Content-Length: 10\r\n\r\n{}",  # truncated body
    b"Content-Length: abc\r\n\r\n{}",
    b"Content-Type: x\r\n\r\n{}",  # no length
    b"Content-Length: 2\n\n{}",  # LF only
    b"garbage without colon\r\n\r\n",
])
def test_broken_framing_is_an_error(data):
    with pytest.raises(FramingError):
        read_message(io.BytesIO(data))


def test_bad_json_body_is_recoverable():
    stream = io.BytesIO(b"Content-Length: 3\r\n\r\n{x}" + encode_message({"ok": True}))
    with pytest.raises(PayloadError):
        read_message(stream)
    assert read_message(stream) == {"ok": True}
