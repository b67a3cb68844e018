import { unwatchAbort, watchAbort } from '../abort-watch.js';
import type { AbortLike } from '../vu-signal.js';

/**
 * Waits `ms`, or rejects with the signal's reason as soon as `signal` aborts, so that a
 * hard-stopped VU leaves its iteration at the next sleep. Node arms a timer from the event
 * loop's cached clock, which is behind the real time when the sleep starts late in a loop turn,
 * so the timer can fire early; k6's sleep(t) waits at least t, so an early timer is re-armed for
 * what is left (here and in Sleeper). Every VU sleeps once per iteration
 * in most scripts, so the abort hook is a Set entry (abort-watch.ts), not an EventTarget listener.
 */
export function abortableSleep(ms: number, signal: AbortLike): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason);
  const due = performance.now() + ms;
  return new Promise((resolve, reject) => {
    const onAbort = (reason: unknown): void => {
      clearTimeout(timer);
      reject(reason);
    };
    const onFire = (): void => {
      const left = due - performance.now();
      if (left > 0) {
        timer = setTimeout(onFire, Math.ceil(left));
        return;
      }
      unwatchAbort(signal, onAbort);
      resolve();
    };
    let timer = setTimeout(onFire, ms);
    watchAbort(signal, onAbort);
  });
}


/**
 * VUs whose sleep ended resume at most RESUMES_PER_TURN per event-loop turn; the others wait
 * in `resumeQueue` for the next turns. Node runs every expired timer in one go, before it reads
 * any socket: after a pause (a collection, a busy moment) hundreds of VUs would send their
 * requests in one turn, and the answers to the first ones would wait unread until the last one
 * was sent. At 5,000 VUs that was most of a steady p99 of 30–70 ms of http_req_duration,
 * which herd caused, not the target (15–20 ms with the cap, `npm run bench`, memory-per-vu).
 */
const RESUMES_PER_TURN = 32;
const resumeQueue: Array<Sleeper | undefined> = [];
let queueHead = 0;
let drainArmed = false;
/**
 * VUs resumed at once since the queue last ran. The count is reset by the queue's setImmediate,
 * armed only once the count reaches COUNT_FROM: one per turn would be one more callback for
 * nearly every VU when few resume per turn.
 */
let resumedAtOnce = 0;
const COUNT_FROM = 8;

function armDrain(): void {
  if (drainArmed) return;
  drainArmed = true;
  setImmediate(drainResumeQueue);
}

function drainResumeQueue(): void {
  drainArmed = false;
  resumedAtOnce = 0;
  const end = Math.min(resumeQueue.length, queueHead + RESUMES_PER_TURN);
  while (queueHead < end) {
    const s = resumeQueue[queueHead] as Sleeper;
    resumeQueue[queueHead++] = undefined;
    s.resume();
  }
  if (queueHead < resumeQueue.length) {
    armDrain();
  } else {
    resumeQueue.length = 0;
    queueHead = 0;
  }
}

/**
 * A VU's sleep(): what one pending sleep needs (timer, abort hook, promise callbacks) lives on
 * this object and is reused by the VU's next sleep, whose timer is re-armed with `refresh()`
 * when the duration is the same as last time. Most scripts sleep once per iteration, and
 * everything allocated per iteration outlives the sleep, so it is promoted out of V8's young
 * generation and then has to be collected from the old one: per-sleep closures and Timeout
 * objects were a large part of the memory and GC time of VUs that mostly sleep.
 * A second sleep started while one is pending (a script that does not await it) takes the
 * plain path.
 */
export class Sleeper {
  private timer: NodeJS.Timeout | null = null;
  private ms = -1;
  private resolve: (() => void) | null = null;
  private reject: ((reason: unknown) => void) | null = null;
  private signal: AbortLike | null = null;
  private due = 0;
  /** Set when the timer ended this sleep and it has not resumed yet (it may wait in the queue). */
  private fired = false;
  private readonly onFire = (): void => {
    const left = this.due - performance.now();
    if (left > 0) {
      // Early (see above): a fresh timer for the rest; the next sleep makes its own again.
      this.timer = setTimeout(this.onFire, Math.ceil(left));
      this.ms = -1;
      return;
    }
    // Resumed now, or queued past this turn's share (see RESUMES_PER_TURN).
    this.fired = true;
    if (resumedAtOnce < RESUMES_PER_TURN && queueHead === resumeQueue.length) {
      if (++resumedAtOnce >= COUNT_FROM) armDrain();
      this.resume();
      return;
    }
    resumeQueue.push(this);
    armDrain();
  };
  private readonly onAbort = (reason: unknown): void => {
    const reject = this.reject;
    this.fired = false;
    if (this.timer !== null) clearTimeout(this.timer);
    // A cleared Timeout is not re-armed: the next sleep makes a new one.
    this.timer = null;
    this.signal = null;
    this.resolve = null;
    this.reject = null;
    if (reject !== null) reject(reason);
  };

  sleep(ms: number, signal: AbortLike): Promise<void> {
    if (this.resolve !== null) return abortableSleep(ms, signal);
    if (signal.aborted) return Promise.reject(signal.reason);
    const p = new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    this.due = performance.now() + ms;
    if (this.timer !== null && this.ms === ms) {
      this.timer.refresh();
    } else {
      if (this.timer !== null) clearTimeout(this.timer);
      this.timer = setTimeout(this.onFire, ms);
      this.ms = ms;
    }
    this.signal = signal;
    watchAbort(signal, this.onAbort);
    return p;
  }

  /** Ends a sleep whose timer fired; a no-op once it was aborted (a queue entry left behind). */
  resume(): void {
    if (!this.fired) return;
    this.fired = false;
    const resolve = this.resolve;
    this.release();
    if (resolve !== null) resolve();
  }

  private release(): void {
    if (this.signal !== null) unwatchAbort(this.signal, this.onAbort);
    this.signal = null;
    this.resolve = null;
    this.reject = null;
  }
}
