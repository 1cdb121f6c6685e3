/** Version of every message protocol between webview, extension, worker and engine; bumped on incompatible change. */
export const PROTOCOL_VERSION = 1;
