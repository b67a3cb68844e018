/** Request headers as echoed back: canonical name → value (repeats already joined). */
export type HeaderEcho = Record<string, string>;

// Load tests send the same few header names millions of times; caching their canonical
// form avoids re-splitting them on every request. The cap stops a client that invents
// names from growing the cache without bound.
const CANONICAL_CACHE_LIMIT = 1024;
const canonicalCache = new Map<string, string>();

/** `x-api-key` → `X-Api-Key`: every dash-separated word capitalised, the rest lower case. */
export function canonicalHeaderName(name: string): string {
  const cached = canonicalCache.get(name);
  if (cached !== undefined) return cached;
  const words = name.toLowerCase().split('-');
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (word.length > 0) words[i] = word[0]!.toUpperCase() + word.slice(1);
  }
  const canonical = words.join('-');
  if (canonicalCache.size < CANONICAL_CACHE_LIMIT) canonicalCache.set(name, canonical);
  return canonical;
}

/**
 * Builds the `headers` echo from Node's `rawHeaders` (name, value, name, value, …), which
 * unlike `req.headers` keeps every repeat so they can be joined the way the contract says.
 */
export function echoHeaders(rawHeaders: readonly string[]): HeaderEcho {
  // A null prototype keeps a header literally named `__proto__` an ordinary key.
  const out: HeaderEcho = Object.create(null) as HeaderEcho;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = canonicalHeaderName(rawHeaders[i]!);
    const value = rawHeaders[i + 1]!;
    const previous = out[name];
    if (previous === undefined) out[name] = value;
    else out[name] = previous + (name === 'Cookie' ? '; ' : ', ') + value;
  }
  return out;
}
