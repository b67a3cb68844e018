/**
 * Header names in canonical form ("content-type" → "Content-Type"), as k6 (Go) shows them.
 * Servers repeat the same few names, so results are cached; the cache is bounded because
 * names come from the network.
 */
const cache = new Map<string, string>();
const MAX_CACHED = 2048;

function isTokenChar(c: number): boolean {
  // RFC 7230 tchar; Go leaves names with any other byte untouched.
  return (
    (c >= 48 && c <= 57) ||
    (c >= 65 && c <= 90) ||
    (c >= 97 && c <= 122) ||
    c === 33 || c === 35 || c === 36 || c === 37 || c === 38 || c === 39 || c === 42 ||
    c === 43 || c === 45 || c === 46 || c === 94 || c === 95 || c === 96 || c === 124 || c === 126
  );
}

function compute(name: string): string {
  let out = '';
  let upper = true;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (!isTokenChar(c)) return name;
    let ch = name[i] as string;
    if (upper && c >= 97 && c <= 122) ch = String.fromCharCode(c - 32);
    else if (!upper && c >= 65 && c <= 90) ch = String.fromCharCode(c + 32);
    out += ch;
    upper = c === 45;
  }
  return out;
}

/** The canonical form of header name `name`. */
export function canonicalHeaderName(name: string): string {
  let c = cache.get(name);
  if (c === undefined) {
    c = compute(name);
    if (cache.size >= MAX_CACHED) cache.clear();
    cache.set(name, c);
  }
  return c;
}
