import type { Exchange } from './exchange.js';

/**
 * Times out the exchanges of one owner (a VU's k6/http state) with a single timer.
 *
 * A timer per request costs a Timeout object, a list insert and a clearTimeout on every
 * request, although nearly every request ends long before its timeout (60 s by default).
 * This timer is armed for the earliest deadline it knows of and stays armed across
 * requests: a request that starts while it is armed for an earlier time changes nothing.
 * When it fires it fails the exchanges past their deadline and re-arms for the earliest of
 * the others. It keeps the process alive only while an exchange is in flight.
 */
export class DeadlineWatch {
  private timer: NodeJS.Timeout | null = null;
  /** performance.now() time the timer is armed for; Infinity when it is not armed. */
  private due = Infinity;
  private readonly fire = (): void => this.expire();

  /** `inflight`: the owner's list of running exchanges, which it keeps up to date. */
  constructor(private readonly inflight: readonly Exchange[]) {}

  /** `ex` was just added to the in-flight list and its deadline set. */
  started(ex: Exchange): void {
    if (ex.deadline < this.due) this.arm(ex.deadline);
    else if (this.inflight.length === 1) this.timer?.ref();
  }

  /** The in-flight list became empty: the timer stays armed but no longer holds the process. */
  idle(): void {
    this.timer?.unref();
  }

  private arm(at: number): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.due = at;
    this.timer = setTimeout(this.fire, Math.max(1, Math.ceil(at - performance.now())));
  }

  private expire(): void {
    this.timer = null;
    this.due = Infinity;
    const now = performance.now();
    let next = Infinity;
    // A copy: failing an exchange removes it from the list.
    for (const ex of [...this.inflight]) {
      if (ex.deadline <= now) ex.timeOut();
      else if (ex.deadline < next) next = ex.deadline;
    }
    if (next !== Infinity && this.inflight.length > 0) this.arm(next);
  }
}
