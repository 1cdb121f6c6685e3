/**
 * The run panel's HTML: a strict Content-Security-Policy with a per-load nonce, the bundled
 * script and stylesheet, nothing inline. Pure (no vscode import): the panel host passes the
 * webview's `cspSource` and the `asWebviewUri` forms of dist/webview.js and dist/webview.css.
 */

export interface PanelHtmlOptions {
  /** `webview.cspSource`: the origin the webview may load its own resources from. */
  cspSource: string;
  /** A fresh random nonce per load (see `makeNonce`). */
  nonce: string;
  scriptUri: string;
  styleUri: string;
  title: string;
}

const NONCE = /^[A-Za-z0-9+/=_-]{16,}$/;

/** A 128-bit random nonce, base64url. */
export function makeNonce(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}

function escapeAttr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The Content-Security-Policy of the panel: scripts only with the nonce, no inline styles, no network. */
export function panelCsp(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `img-src ${cspSource} data: blob:`,
    `style-src ${cspSource} 'nonce-${nonce}'`,
    `font-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
    "connect-src 'none'",
    "frame-src 'none'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

export function panelHtml(o: PanelHtmlOptions): string {
  if (!NONCE.test(o.nonce)) throw new Error('panelHtml: nonce must be at least 16 base64 characters');
  // VS Code may give several space-separated sources (code-server does); a ";" or "," would start a new directive or policy.
  if (/[;,\r\n]/.test(o.cspSource) || o.cspSource.trim() === '')
    throw new Error(`panelHtml: cspSource must be a list of sources, got "${o.cspSource}"`);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeAttr(panelCsp(o.cspSource, o.nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>${escapeAttr(o.title)}</title>
<link rel="stylesheet" href="${escapeAttr(o.styleUri)}" nonce="${o.nonce}">
</head>
<body>
<script nonce="${o.nonce}" src="${escapeAttr(o.scriptUri)}"></script>
</body>
</html>
`;
}
