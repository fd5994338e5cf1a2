/** Shared bits of the two webviews: nonce, content security policy, page skeleton. */
import * as vscode from 'vscode';
import { randomBytes } from 'node:crypto';
import { escapeHtml } from './markdown';

export function nonce(): string {
  return randomBytes(18).toString('base64').replace(/[^A-Za-z0-9]/g, '');
}

/**
 * Strict policy: nothing by default; styles only from the extension's media folder; scripts only with this
 * page's nonce; images only from the extension or data: URLs (none are used today).
 */
export function csp(webview: vscode.Webview, scriptNonce: string): string {
  return [
    "default-src 'none'",
    `style-src ${webview.cspSource}`,
    `script-src 'nonce-${scriptNonce}'`,
    `img-src ${webview.cspSource} data:`,
    `font-src ${webview.cspSource}`,
  ].join('; ');
}

export function mediaUri(webview: vscode.Webview, extensionUri: vscode.Uri, file: string): vscode.Uri {
  return webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'client', 'media', file));
}

/** The HTML page of a webview: CSP, one stylesheet, one script, a static body. */
export function page(opts: {
  webview: vscode.Webview;
  extensionUri: vscode.Uri;
  title: string;
  styles: string[];
  script: string;
  body: string;
}): string {
  const n = nonce();
  const styles = opts.styles
    .map((s) => `<link rel="stylesheet" href="${mediaUri(opts.webview, opts.extensionUri, s)}">`)
    .join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp(opts.webview, n)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
${styles}
<title>${escapeHtml(opts.title)}</title>
</head>
<body>
${opts.body}
<script nonce="${n}" src="${mediaUri(opts.webview, opts.extensionUri, opts.script)}"></script>
</body>
</html>`;
}
