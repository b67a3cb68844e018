// Replaying answers by `K6-Idempotency-Key`, shared by the legacy (/v1) and v6 (/cloud/v6)
// k6 cloud protocols: k6 sends one key per logical request and reuses it on every retry, so a
// retried POST after a lost answer must not start a second run.

const DEFAULT_TTL_MS = 24 * 60 * 60 * 1000;

/**
 * Answers by idempotency key: the first call's successful answer is kept (least recently used
 * keys dropped past `capacity`, any key after `ttlMs`, 24 h by default) and given to every repeat. A repeat that
 * arrives while the first is still working waits for it. Failures are not kept, so k6's retry
 * of a 5xx does the work again.
 */
export class IdempotencyCache<A> {
  readonly #entries = new Map<string, { at: number; answer: Promise<A> }>();
  readonly #capacity: number;
  readonly #now: () => number;
  readonly #ttlMs: number;

  constructor(capacity: number, now: () => number, ttlMs = DEFAULT_TTL_MS) {
    this.#capacity = capacity;
    this.#now = now;
    this.#ttlMs = ttlMs;
  }

  /** The answer for `key`: a kept one, or `work()`'s (kept when `keep` says so). */
  async run(key: string, work: () => Promise<A>, keep: (a: A) => boolean): Promise<A> {
    const t = this.#now();
    const known = this.#entries.get(key);
    if (known !== undefined && t - known.at < this.#ttlMs) {
      this.#entries.delete(key);
      this.#entries.set(key, known);
      return known.answer;
    }
    const answer = work();
    this.#entries.delete(key);
    this.#entries.set(key, { at: t, answer });
    while (this.#entries.size > this.#capacity) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
    try {
      const a = await answer;
      if (!keep(a)) this.#forget(key, answer);
      return a;
    } catch (e) {
      this.#forget(key, answer);
      throw e;
    }
  }

  #forget(key: string, answer: Promise<A>): void {
    if (this.#entries.get(key)?.answer === answer) this.#entries.delete(key);
  }
}

