/** One Set-Cookie header as written by the server, before the jar applies RFC 6265 rules. */
export interface ParsedSetCookie {
  readonly name: string;
  readonly value: string;
  /** Domain attribute, lower case without a leading dot; '' when absent. */
  readonly domain: string;
  /** Path attribute; '' when absent or not starting with '/'. */
  readonly path: string;
  /** Expires attribute as epoch ms; null when absent or unparsable. */
  readonly expires: number | null;
  /** Max-Age in seconds; null when absent. */
  readonly maxAge: number | null;
  readonly secure: boolean;
  readonly httpOnly: boolean;
}

/** Parses a Set-Cookie value; null when it has no `name=` part (such cookies are ignored, as in Go). */
export function parseSetCookie(header: string): ParsedSetCookie | null {
  const parts = header.split(';');
  const first = (parts[0] as string).trim();
  const eq = first.indexOf('=');
  if (eq <= 0) return null;
  const name = first.slice(0, eq).trim();
  let value = first.slice(eq + 1).trim();
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
  let domain = '';
  let path = '';
  let expires: number | null = null;
  let maxAge: number | null = null;
  let secure = false;
  let httpOnly = false;
  for (let i = 1; i < parts.length; i++) {
    const attr = (parts[i] as string).trim();
    const aeq = attr.indexOf('=');
    const key = (aeq < 0 ? attr : attr.slice(0, aeq)).trim().toLowerCase();
    const val = aeq < 0 ? '' : attr.slice(aeq + 1).trim();
    switch (key) {
      case 'domain': {
        const d = val.startsWith('.') ? val.slice(1) : val;
        domain = d.toLowerCase();
        break;
      }
      case 'path':
        path = val.startsWith('/') ? val : '';
        break;
      case 'expires': {
        const t = Date.parse(val);
        if (!Number.isNaN(t)) expires = t;
        break;
      }
      case 'max-age':
        if (/^-?\d+$/.test(val)) maxAge = Number(val);
        break;
      case 'secure':
        secure = true;
        break;
      case 'httponly':
        httpOnly = true;
        break;
      default:
        break;
    }
  }
  return { name, value, domain, path, expires, maxAge, secure, httpOnly };
}
