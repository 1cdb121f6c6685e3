"""The engine reports the protocol version the TypeScript client checks."""

from __future__ import annotations

import re

from conftest import ROOT
from ivgr_engine.server import ENGINE_PROTOCOL, Engine


def client_version() -> int:
    source = (ROOT.parent / "src" / "core" / "protocol" / "version.ts").read_text(encoding="utf-8")
    match = re.search(r"export const ENGINE_PROTOCOL_VERSION = (\d+);", source)
    assert match, "src/core/protocol/version.ts no longer declares ENGINE_PROTOCOL_VERSION"
    return int(match.group(1))


def test_load_reports_the_protocol_the_client_speaks(tiny_model):
    info = Engine().call("load", {"model": str(tiny_model)})
    assert info["protocol"] == ENGINE_PROTOCOL == client_version()
    assert info["coordConvention"] == "qwen2-1000"
