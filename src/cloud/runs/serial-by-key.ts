/**
 * Runs work one piece at a time per key, in the order it was given: the run lifecycle chains
 * everything done on one run (agent messages, timers, API calls) so that none interleave, while
 * different runs go on side by side. A piece that fails does not stop the ones after it.
 */
export class SerialByKey<K> {
  readonly #chains = new Map<K, Promise<unknown>>();

  /** Runs `fn` after every earlier piece of work on `key`; resolves or rejects as `fn` does. */
  run<T>(key: K, fn: () => Promise<T>): Promise<T> {
    const previous = this.#chains.get(key) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(fn);
    const settled = next.catch(() => undefined);
    this.#chains.set(key, settled);
    void settled.then(() => {
      if (this.#chains.get(key) === settled) this.#chains.delete(key);
    });
    return next;
  }

  /** Settles when every piece of work given so far has. */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.#chains.values()]);
  }
}
