/** Version of the message protocols between webview, extension and worker; bumped on incompatible change. */
export const PROTOCOL_VERSION = 1;

/**
 * Version of the worker <-> engine JSON-RPC (src/core/protocol/engine.ts); the Python engine
 * reports its own (`ENGINE_PROTOCOL` in python/ivgr_engine/server.py) in the `load` result,
 * because python/ can be older or newer than the extension that starts it.
 */
export const ENGINE_PROTOCOL_VERSION = 1;
