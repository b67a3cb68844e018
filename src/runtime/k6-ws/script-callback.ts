/**
 * Calling script functions from socket events: both WebSocket modules run user handlers that
 * may throw or return promises, and report failures the way herd's timers do.
 */

/** True for anything with a callable `then`: what an async handler returns. */
export function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (typeof v === 'object' || typeof v === 'function') && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

/** A thrown value as a log line shows it: the stack when there is one. Scripts can throw anything. */
export function describeThrown(e: unknown): string {
  if (e instanceof Error) return e.stack ?? `${e.name}: ${e.message}`;
  return String(e);
}

/** The script functions registered for each event name, in registration order. */
export class HandlerTable {
  private readonly byEvent = new Map<string, Array<(...args: unknown[]) => unknown>>();

  /** Adds `handler` for `event`; values that are not functions are ignored, as k6 ignores them. */
  add(event: string, handler: unknown): void {
    if (typeof handler !== 'function') return;
    let list = this.byEvent.get(event);
    if (list === undefined) {
      list = [];
      this.byEvent.set(event, list);
    }
    list.push(handler as (...args: unknown[]) => unknown);
  }

  /** Removes the first registration of `handler` for `event`, if any. */
  remove(event: string, handler: unknown): void {
    const list = this.byEvent.get(event);
    if (list === undefined) return;
    const i = list.indexOf(handler as (...args: unknown[]) => unknown);
    if (i !== -1) list.splice(i, 1);
  }

  /**
   * Calls every handler of `event` with `args` (and `self` as `this`). A synchronous throw stops
   * the remaining handlers of this event and goes to `onThrow`; a returned promise goes to
   * `onAsync`. Handlers added while the event runs wait for the next event.
   */
  call(
    event: string,
    self: unknown,
    args: readonly unknown[],
    onThrow: (e: unknown) => void,
    onAsync: (p: PromiseLike<unknown>) => void,
  ): void {
    const list = this.byEvent.get(event);
    if (list === undefined || list.length === 0) return;
    const snapshot = list.slice();
    for (const h of snapshot) {
      let ret: unknown;
      try {
        ret = h.apply(self, args as unknown[]);
      } catch (e) {
        onThrow(e);
        return;
      }
      if (isThenable(ret)) onAsync(ret);
    }
  }
}
