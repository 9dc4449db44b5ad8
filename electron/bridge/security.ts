// Headers and checks shared by the HTTP bridge and the Electron protocol handler.
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'none'",
].join('; ');

export const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

export const STATIC_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};

export type HostCheck = 'loopback' | 'foreign' | 'malformed';

// RFC 3986 host (an IP literal in brackets, or a name of unreserved characters: an IPv4 address is one too)
// and an optional port of 1-5 digits. Anything else (spaces, userinfo, several colons, an empty port, percent
// escapes) is malformed: no browser sends it, and such a value must not reach a looser parser downstream.
const HOST_SYNTAX = /^(\[[0-9a-f:.]+\]|[a-z0-9._~-]+)(?::(\d{1,5}))?$/;

/**
 * Only loopback host names are accepted (any port, so an SSH tunnel to another local port works): a page on
 * another origin that rebinds its DNS name to 127.0.0.1 is refused ('foreign', 403); a Host value that is not
 * a host[:port] at all is 'malformed' (400).
 */
export function checkHost(hostHeader: string | undefined): HostCheck {
  if (!hostHeader) return 'malformed';
  const m = HOST_SYNTAX.exec(hostHeader.toLowerCase());
  if (!m || (m[2] !== undefined && Number(m[2]) > 65535)) return 'malformed';
  return m[1] === '127.0.0.1' || m[1] === 'localhost' || m[1] === '[::1]' ? 'loopback' : 'foreign';
}

export function isLoopbackHost(hostHeader: string | undefined): boolean {
  return checkHost(hostHeader) === 'loopback';
}

/** Whether every percent escape in a request target is well formed (hex digits, valid UTF-8). */
export function isWellFormedTarget(target: string): boolean {
  try {
    decodeURIComponent(target);
    return true;
  } catch {
    return false;
  }
}
