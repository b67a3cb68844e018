/**
 * k6's TLS options (tlsVersion, tlsCipherSuites, tlsAuth), read from the consolidated options
 * object, validated once per test and compiled into shared Node SecureContexts.
 *
 * - tlsVersion: 'tls1.2' (min = max) or { min, max }; values 'ssl3.0', 'tls1.0' … 'tls1.3'
 *   (http.SSL_3_0 … http.TLS_1_3). OpenSSL in Node has no SSL 3.0, so 'ssl3.0' means TLS 1.0.
 * - tlsCipherSuites: Go's cipher suite names, mapped to OpenSSL names for TLS ≤ 1.2. As in k6,
 *   the list does not restrict TLS 1.3 suites (Go does not let it); TLS 1.3 names are accepted.
 * - tlsAuth: [{ domains?, cert, key, password? }]: a client certificate for the hosts in
 *   `domains` (exact names or '*.suffix'), or for every host when `domains` is absent/empty.
 */
import { DEFAULT_CIPHERS, createSecureContext, type SecureContext } from 'node:tls';
import { HerdError } from '../../errors/index.js';
import type { TlsPolicy } from './client/index.js';

/** k6's version names → Node's. */
const VERSIONS: Readonly<Record<string, 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3'>> = {
  'ssl3.0': 'TLSv1',
  'tls1.0': 'TLSv1',
  'tls1.1': 'TLSv1.1',
  'tls1.2': 'TLSv1.2',
  'tls1.3': 'TLSv1.3',
};
const VERSION_ORDER = ['ssl3.0', 'tls1.0', 'tls1.1', 'tls1.2', 'tls1.3'];

/** Go's cipher suite names (as k6 accepts them) → OpenSSL names; '' for TLS 1.3 suites, which the option leaves alone. */
export const CIPHER_SUITES: Readonly<Record<string, string>> = {
  TLS_RSA_WITH_RC4_128_SHA: 'RC4-SHA',
  TLS_RSA_WITH_3DES_EDE_CBC_SHA: 'DES-CBC3-SHA',
  TLS_RSA_WITH_AES_128_CBC_SHA: 'AES128-SHA',
  TLS_RSA_WITH_AES_256_CBC_SHA: 'AES256-SHA',
  TLS_RSA_WITH_AES_128_CBC_SHA256: 'AES128-SHA256',
  TLS_RSA_WITH_AES_128_GCM_SHA256: 'AES128-GCM-SHA256',
  TLS_RSA_WITH_AES_256_GCM_SHA384: 'AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_RC4_128_SHA: 'ECDHE-ECDSA-RC4-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: 'ECDHE-ECDSA-AES128-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: 'ECDHE-ECDSA-AES256-SHA',
  TLS_ECDHE_RSA_WITH_RC4_128_SHA: 'ECDHE-RSA-RC4-SHA',
  TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA: 'ECDHE-RSA-DES-CBC3-SHA',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: 'ECDHE-RSA-AES128-SHA',
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: 'ECDHE-RSA-AES256-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256: 'ECDHE-ECDSA-AES128-SHA256',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256: 'ECDHE-RSA-AES128-SHA256',
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 'ECDHE-RSA-AES128-GCM-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 'ECDHE-RSA-AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_AES_128_GCM_SHA256: '',
  TLS_AES_256_GCM_SHA384: '',
  TLS_CHACHA20_POLY1305_SHA256: '',
};

/** TLS 1.3 suites stay at Node's defaults whatever tlsCipherSuites says (k6 cannot change them either). */
const TLS13_SUITES = 'TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256';

interface ClientCert {
  /** Lower-cased exact names, and '.suffix' for '*.suffix' patterns; empty: every host. */
  readonly exact: ReadonlySet<string>;
  readonly suffixes: readonly string[];
  readonly context: SecureContext;
}

function invalid(path: string, message: string, hint: string): HerdError {
  return new HerdError('invalid_option', `invalid option ${path}: ${message}`, { hint });
}

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `${typeof v} ${String(v)}`;
}

const VERSION_HINT = `use one of ${VERSION_ORDER.map((v) => `'${v}'`).join(', ')} (http.SSL_3_0 … http.TLS_1_3), or { min, max } with those values`;

function version(path: string, v: unknown): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string' || VERSIONS[v] === undefined) {
    throw invalid(path, `unknown TLS version ${describe(v)}; allowed values: ${VERSION_ORDER.join(', ')}`, VERSION_HINT);
  }
  return v;
}

/** The validated TLS options and the contexts compiled from them. */
export class TlsConfig implements TlsPolicy {
  /** Node context options shared by every context of the test. */
  private readonly base: { minVersion?: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3'; maxVersion?: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3'; ciphers?: string };
  private readonly certs: ClientCert[] = [];
  private plain: SecureContext | null = null;

  constructor(exported: Readonly<Record<string, unknown>>) {
    this.base = {};
    this.parseVersion(exported['tlsVersion']);
    this.parseCiphers(exported['tlsCipherSuites']);
    const min = this.base.minVersion;
    if (min === 'TLSv1' || min === 'TLSv1.1') {
      // OpenSSL 3's default security level refuses TLS 1.0/1.1 handshakes (SHA-1 signatures);
      // Go, and so k6, speaks them when the script asks for them.
      this.base.ciphers = `${this.base.ciphers ?? DEFAULT_CIPHERS}:@SECLEVEL=0`;
    }
    this.parseAuth(exported['tlsAuth']);
  }

  /** The context for a connection to `servername`: with the client certificate for that host, if any. */
  contextFor(servername: string): SecureContext {
    const certs = this.certs;
    if (certs.length > 0) {
      const host = servername.toLowerCase();
      for (const c of certs) {
        if (c.exact.size === 0 && c.suffixes.length === 0) return c.context;
        if (c.exact.has(host)) return c.context;
        for (const s of c.suffixes) if (host.endsWith(s)) return c.context;
      }
    }
    return (this.plain ??= createSecureContext(this.base));
  }

  private parseVersion(v: unknown): void {
    if (v === undefined || v === null || v === '') return;
    let min: string | undefined;
    let max: string | undefined;
    if (typeof v === 'string') {
      min = max = version('tlsVersion', v);
    } else if (typeof v === 'object' && !Array.isArray(v)) {
      const o = v as Record<string, unknown>;
      for (const k of Object.keys(o)) {
        if (k !== 'min' && k !== 'max') throw invalid('tlsVersion', `unknown field "${k}"`, VERSION_HINT);
      }
      min = version('tlsVersion.min', o['min']);
      max = version('tlsVersion.max', o['max']);
      if (min !== undefined && max !== undefined && VERSION_ORDER.indexOf(min) > VERSION_ORDER.indexOf(max)) {
        throw invalid('tlsVersion', `min ${JSON.stringify(min)} is newer than max ${JSON.stringify(max)}`, 'swap the two values, or leave one of them out');
      }
    } else {
      throw invalid('tlsVersion', `expected a version string or { min, max }, got ${describe(v)}`, VERSION_HINT);
    }
    if (min !== undefined) this.base.minVersion = VERSIONS[min];
    if (max !== undefined) this.base.maxVersion = VERSIONS[max];
  }

  private parseCiphers(v: unknown): void {
    if (v === undefined || v === null) return;
    const allowed = `allowed values: ${Object.keys(CIPHER_SUITES).join(', ')}`;
    const hint = "list k6's (Go's) cipher suite names, e.g. tlsCipherSuites: ['TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256']";
    if (!Array.isArray(v)) throw invalid('tlsCipherSuites', `expected an array of cipher suite names, got ${describe(v)}; ${allowed}`, hint);
    if (v.length === 0) return;
    const names: string[] = [];
    v.forEach((s: unknown, i) => {
      const mapped = typeof s === 'string' ? CIPHER_SUITES[s] : undefined;
      if (mapped === undefined) throw invalid(`tlsCipherSuites[${i}]`, `unknown cipher suite ${describe(s)}; ${allowed}`, hint);
      if (mapped !== '') names.push(mapped);
    });
    // Only TLS 1.3 suites listed: TLS 1.2 and older keep their defaults, as with k6.
    if (names.length === 0) return;
    const ciphers = `${TLS13_SUITES}:${names.join(':')}`;
    try {
      createSecureContext({ ciphers });
    } catch {
      throw invalid('tlsCipherSuites', `none of ${JSON.stringify(v)} is available in this Node.js build's OpenSSL`, 'pick suites OpenSSL 3 still enables, such as TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256');
    }
    this.base.ciphers = ciphers;
  }

  private parseAuth(v: unknown): void {
    if (v === undefined || v === null) return;
    const hint = "give tlsAuth as an array of { domains: ['example.com'], cert: open('cert.pem'), key: open('key.pem'), password?: '…' }";
    if (!Array.isArray(v)) throw invalid('tlsAuth', `expected an array, got ${describe(v)}`, hint);
    v.forEach((e: unknown, i) => {
      const path = `tlsAuth[${i}]`;
      if (typeof e !== 'object' || e === null || Array.isArray(e)) throw invalid(path, `expected an object, got ${describe(e)}`, hint);
      const o = e as Record<string, unknown>;
      const cert = o['cert'];
      const key = o['key'];
      const password = o['password'];
      const domains = o['domains'];
      if (typeof cert !== 'string' || !cert.includes('-----BEGIN')) throw invalid(`${path}.cert`, 'expected a PEM-encoded certificate string', hint);
      if (typeof key !== 'string' || !key.includes('-----BEGIN')) throw invalid(`${path}.key`, 'expected a PEM-encoded private key string', hint);
      if (password !== undefined && password !== null && typeof password !== 'string') throw invalid(`${path}.password`, `expected a string, got ${describe(password)}`, hint);
      const exact = new Set<string>();
      const suffixes: string[] = [];
      if (domains !== undefined && domains !== null) {
        if (!Array.isArray(domains)) throw invalid(`${path}.domains`, `expected an array of host names, got ${describe(domains)}`, hint);
        domains.forEach((d: unknown, j) => {
          if (typeof d !== 'string' || d === '') throw invalid(`${path}.domains[${j}]`, `expected a host name, got ${describe(d)}`, hint);
          const lower = d.toLowerCase();
          if (lower.startsWith('*.')) suffixes.push(lower.slice(1));
          else exact.add(lower);
        });
      }
      let context: SecureContext;
      try {
        context = createSecureContext({ ...this.base, cert, key, ...(typeof password === 'string' ? { passphrase: password } : {}) });
      } catch (err) {
        throw invalid(path, `the certificate and key cannot be used: ${(err as Error).message}`, 'check that cert and key are the matching PEM pair, and give password when the key is encrypted');
      }
      this.certs.push({ exact, suffixes, context });
    });
  }
}
