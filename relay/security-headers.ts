// Security headers sent with every HTTP response, and the Content-Security-Policy of the app.
import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';

/** Headers every response carries, whatever it is. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin'
};

/** Largest HTML page whose inline scripts are hashed, bytes. */
export const MAX_HASHED_HTML_BYTES = 1 << 20;

/**
 * The app's policy. Scripts: same origin plus the hashes of the page's inline scripts (SvelteKit's
 * bootstrap); the node runs in a same-origin module worker. Connections: same origin (fetch) and
 * WebSockets to relays, which listen on their own port (and, with several relays, other hosts).
 * Inline style attributes are allowed (SvelteKit's `display: contents` wrapper). Nothing may
 * frame the app, and it loads no plugins.
 */
export function contentSecurityPolicy(scriptHashes: readonly string[] = []): string {
  const scripts = ["'self'", ...scriptHashes.map((h) => `'sha256-${h}'`)].join(' ');
  return [
    "default-src 'self'",
    `script-src ${scripts}`,
    "worker-src 'self'",
    "connect-src 'self' ws: wss:",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'"
  ].join('; ');
}

const INLINE_SCRIPT = /<script\b([^>]*)>([\s\S]*?)<\/script\s*>/gi;

/** Base64 SHA-256 of each inline (no `src`) script body in `html`, in order, without duplicates. */
export function inlineScriptHashes(html: string): string[] {
  const out = new Set<string>();
  for (const m of html.matchAll(INLINE_SCRIPT)) {
    const [, attrs, body] = m;
    if (/\bsrc\s*=/i.test(attrs)) continue;
    out.add(createHash('sha256').update(body, 'utf8').digest('base64'));
  }
  return [...out];
}

/** Sets the security headers and `csp` on `res` (before its head is written). */
export function setSecurityHeaders(res: ServerResponse, csp: string): void {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
  res.setHeader('content-security-policy', csp);
}
