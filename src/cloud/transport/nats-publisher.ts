import { randomUUID } from 'node:crypto';
import type { JetStreamClient } from 'nats';
import { PUBLISH_GIVE_UP_MS } from './nats-stream.js';

interface Pending {
  readonly subject: string;
  readonly data: Uint8Array;
  readonly msgID: string;
  readonly message: unknown;
  firstTryMs: number;
}

/**
 * Publishes to JetStream in order, once each, through NATS outages: one queue per destination,
 * each message waits for the stream's acknowledgement before the next goes, and a message whose
 * acknowledgement does not come (timeout, no server, reconnecting) is sent again with the same
 * `Nats-Msg-Id`, which the stream's duplicate window turns into one stored copy. A message still
 * unstored after PUBLISH_GIVE_UP_MS is dropped and reported: past that its run has been given up
 * by the control plane's timers anyway.
 */
export class JetStreamPublisher {
  readonly #queues = new Map<string, Pending[]>();
  readonly #idPrefix = randomUUID();
  readonly #idle: Array<() => void> = [];
  #next = 0;
  #stopped = false;

  constructor(
    private readonly js: JetStreamClient,
    private readonly onDrop: (why: string, message: unknown) => void,
    private readonly timeoutMs = 2000,
  ) {}

  /** Queues `message` (already encoded as `data`) for `subject`; messages of one `queue` are stored in the order given. */
  publish(queue: string, subject: string, data: Uint8Array, message: unknown): void {
    if (this.#stopped) return;
    const item: Pending = { subject, data, message, msgID: `${this.#idPrefix}-${++this.#next}`, firstTryMs: performance.now() };
    const q = this.#queues.get(queue);
    if (q !== undefined) {
      q.push(item);
      return;
    }
    const fresh = [item];
    this.#queues.set(queue, fresh);
    void this.#run(queue, fresh);
  }

  async #run(queue: string, q: Pending[]): Promise<void> {
    let backoffMs = 50;
    for (let item = q[0]; item !== undefined && !this.#stopped; item = q[0]) {
      try {
        await this.js.publish(item.subject, item.data, { msgID: item.msgID, timeout: this.timeoutMs });
        q.shift();
        backoffMs = 50;
        continue;
      } catch (e) {
        if (this.#stopped) break;
        if (performance.now() - item.firstTryMs >= PUBLISH_GIVE_UP_MS) {
          q.shift();
          this.onDrop(`could not store it in JetStream for ${PUBLISH_GIVE_UP_MS / 1000}s: ${e instanceof Error ? e.message : String(e)}`, item.message);
          continue;
        }
      }
      await new Promise((r) => setTimeout(r, backoffMs));
      backoffMs = Math.min(backoffMs * 2, 2000);
    }
    this.#queues.delete(queue);
    if (this.#queues.size === 0) for (const resolve of this.#idle.splice(0)) resolve();
  }

  /** Resolves when every queued message is stored (or dropped), or after `timeoutMs`. */
  async flush(timeoutMs: number): Promise<void> {
    if (this.#queues.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((resolve) => this.#idle.push(resolve)),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
  }

  /** Drops whatever is still queued; nothing is published after this. */
  stop(): void {
    this.#stopped = true;
    for (const resolve of this.#idle.splice(0)) resolve();
  }
}
