/** VU loops started per event-loop turn when many VUs start together. */
export const VU_STARTS_PER_TURN = 100;

/**
 * Spreads the first iterations of VUs that start together over event-loop turns, a hundred
 * per turn.
 *
 * Started in one synchronous run, 5,000 VUs open 5,000 connections and write 5,000 requests
 * before herd reads a single answer: every one of those requests then waits for all the
 * others to be sent, which shows up as hundreds of milliseconds of `http_req_connecting` that
 * herd, not the target, caused, and delays every VU's next iteration. With a turn of the
 * event loop between groups, the first answers are read while later VUs are still starting.
 * Up to a hundred VUs (most tests) start exactly as before.
 */
export class StartStagger {
  private started = 0;
  private gate: Promise<void> = Promise.resolve();

  constructor(private readonly perTurn = VU_STARTS_PER_TURN) {}

  /** Called once by each VU loop before its first iteration: null to go on at once, or what to wait for. */
  turn(): Promise<void> | null {
    const n = this.started++;
    if (n < this.perTurn) return null;
    if (n % this.perTurn === 0) {
      this.gate = this.gate.then(() => new Promise<void>((resolve) => setImmediate(resolve)));
    }
    return this.gate;
  }
}
