"""The engine as a process: protocol-only stdout, errors instead of crashes, no hang on bad input."""

from __future__ import annotations

import sys
import time

from conftest import RpcProcess


def test_bad_input_gets_errors_and_the_server_keeps_serving(tiny_model, images):
    p = RpcProcess()
    try:
        body = b"{not json"
        p.send_raw(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        assert p.read()["error"]["code"] == -32700
        p.send({"jsonrpc": "1.0", "id": 7, "method": "load"})
        assert p.read()["error"]["code"] == -32600
        p.send({"jsonrpc": "2.0", "id": 8, "method": "load", "params": ["positional"]})
        assert p.read()["error"]["code"] == -32602
        assert p.call("frobnicate")["error"]["code"] == -32601
        r = p.call("generate", {"prompts": [], "n": 1})
        assert r["error"]["code"] == -32001 and "load first" in r["error"]["message"]
        r = p.call("load", {"model": str(tiny_model / "nope")})
        assert r["error"]["code"] == -32002 and "nope" in r["error"]["message"]
        assert p.call("load", {"model": str(tiny_model)})["result"]["coordConvention"] == "qwen2-1000"
        r = p.call("generate", {"prompts": [{"id": "a", "images": [images["broken"]], "messages": [{"role": "user", "text": "hi"}]}],
                                "n": 1, "temperature": 1, "maxTokens": 2, "seed": 0, "keep": False})
        assert r["error"]["code"] == -32004 and "broken.png" in r["error"]["message"]
        r = p.call("generate", {"prompts": [{"id": "a", "images": [images["red"]], "messages": [{"role": "user", "text": "hi"}]}],
                                "n": 2, "temperature": 1, "maxTokens": 3, "seed": 0, "keep": False})
        assert len(r["result"]["samples"]) == 2
        assert p.call("shutdown")["result"] == {}
        assert p.proc.wait(timeout=30) == 0
    finally:
        p.proc.kill()


NOISY = """
import os, sys
import ivgr_engine.server as server
plain = server.Engine.op_release
def noisy(self, params):
    print("python print on stdout")
    os.system("echo child process writing to fd 1")
    return plain(self, params)
server.Engine.op_release = noisy
sys.exit(server.main())
"""


def test_prints_from_python_and_child_processes_never_reach_the_protocol_stream():
    p = RpcProcess([sys.executable, "-c", NOISY])
    try:
        assert p.call("release", {"rolloutIds": ["x"]})["result"] == {"released": 0}
        assert p.call("shutdown")["result"] == {}
        assert p.proc.stdout.read() == b""
        err = p.proc.stderr.read()
        assert b"python print on stdout" in err and b"child process writing to fd 1" in err
    finally:
        p.proc.kill()


def test_exits_when_stdin_closes_and_on_broken_framing():
    p = RpcProcess()
    assert p.close() == 0
    p = RpcProcess()
    p.send_raw(b"Content-Length: banana\r\n\r\n")
    assert p.proc.wait(timeout=30) == 0
    assert b"protocol stream is broken" in p.proc.stderr.read()


def test_cancel_stops_a_running_generate(tiny_model, images):
    p = RpcProcess()
    try:
        p.call("load", {"model": str(tiny_model)})
        p.send({"jsonrpc": "2.0", "id": 50, "method": "generate", "params": {
            "prompts": [{"id": "a", "images": [images["red"]], "messages": [{"role": "user", "text": "hi"}]}],
            "n": 16, "temperature": 1, "maxTokens": 3000, "seed": 0, "keep": False}})
        time.sleep(1.0)
        p.send({"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": 50}})
        r = p.read()
        assert r["id"] == 50 and r.get("error", {}).get("code") == -32800, r
        assert "result" in p.call("release", {"rolloutIds": []})
    finally:
        p.proc.kill()
