// What every page gets, and the scope that ends with it: timers, live streams and charts
// registered here are stopped when the user navigates away.

/** Things to undo when a page is left. */
export class Scope {
  #cleanups: (() => void)[] = [];
  #alive = true;

  /** False once the page was left: async work that finishes late must not touch the DOM. */
  get alive(): boolean {
    return this.#alive;
  }

  /** Runs `fn` when the page is left. */
  add(fn: () => void): void {
    if (!this.#alive) fn();
    else this.#cleanups.push(fn);
  }

  /** `setInterval` that ends with the page. */
  every(ms: number, fn: () => void): void {
    const id = setInterval(fn, ms);
    this.add(() => clearInterval(id));
  }

  /** Ends everything registered. */
  dispose(): void {
    this.#alive = false;
    for (const fn of this.#cleanups.splice(0).reverse()) {
      try {
        fn();
      } catch (e) {
        reportError(e);
      }
    }
  }
}

/** A page: renders into `main`, registers what to stop in `scope`. */
export type Page = (main: HTMLElement, params: readonly string[], scope: Scope) => void | Promise<void>;

/** Shows an error (from the API or elsewhere) in place of a page's content. */
export function errorText(e: unknown): string {
  if (e instanceof Error) {
    const hint = (e as { hint?: string }).hint;
    return hint ? `${e.message} (${hint})` : e.message;
  }
  return String(e);
}
