import v8 from 'node:v8';
import { HerdError } from '../errors/index.js';

/**
 * How far V8's heap may grow past what the last full collection kept, in percent, in the
 * processes that run VUs (`herd run`, `herd agent`).
 *
 * V8 picks that factor itself, between 1.1× and 4×, and picks it high when a program allocates
 * fast and its collections are cheap, which is exactly a load generator: thousands of VUs each
 * allocate a little per request or sleep, and most of it lives just long enough (a request in
 * flight, an iteration asleep) to be promoted out of the young generation. Measured with
 * `bench/run.mjs` (memory-per-vu, many-vus): with V8's choice the peak RSS followed the
 * allocation rate, not the VUs (5,000 HTTP VUs: 280–390 MiB depending on when the last full
 * collection happened; 100,000 sleeping VUs: 1.6 GiB); capped at 30 % it follows the live VUs
 * (5,000 VUs: about 215 MiB; 100,000: about 0.9 GiB) and closed-loop request rates did not
 * drop. The price is more full collections on large heaps, which run concurrently.
 */
export const DEFAULT_HEAP_GROWTH_PERCENT = 30;

/** The environment variable that overrides it; 0 leaves V8's own choice. */
export const HEAP_GROWTH_ENV = 'HERD_HEAP_GROWTH_PERCENT';

/** The growth cap `env` asks for (the default when unset); throws naming the variable when it is not a whole number 0–400. */
export function heapGrowthPercent(env: Readonly<Record<string, string | undefined>>): number {
  const raw = env[HEAP_GROWTH_ENV];
  if (raw === undefined || raw.trim() === '') return DEFAULT_HEAP_GROWTH_PERCENT;
  const n = /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : NaN;
  if (!(n >= 0 && n <= 400)) {
    throw new HerdError('invalid_flag', `${HEAP_GROWTH_ENV} must be a whole number from 0 to 400, got ${JSON.stringify(raw)}`, {
      hint: `unset it for the default (${DEFAULT_HEAP_GROWTH_PERCENT}), or set 0 to let V8 choose`,
    });
  }
  return n;
}

/**
 * Applies the growth cap to this process (and so to its worker threads, which share V8's
 * flags). V8 reads this flag each time it sets the next collection's limit, so setting it after
 * start-up takes effect from the next full collection on.
 */
export function applyHeapPolicy(env: Readonly<Record<string, string | undefined>>): void {
  const percent = heapGrowthPercent(env);
  if (percent > 0) v8.setFlagsFromString(`--heap-growing-percent=${percent}`);
}
