import {
  AckPolicy, DeliverPolicy, DiscardPolicy, NatsError, nanos, RetentionPolicy, StorageType,
  type ConsumerMessages, type JetStreamClient, type JetStreamManager, type JsMsg,
} from 'nats';
import { HerdError } from '../../errors/index.js';
import type { NatsNames } from './nats-subjects.js';

/** Limits of the stream (what a message left unread costs at most). */
export interface NatsStreamLimits {
  /** How long an unread message is kept; 1 hour by default. */
  readonly maxAgeMs?: number;
  /** How many bytes the stream keeps at most (the oldest go first); 1 GiB by default. */
  readonly maxBytes?: number;
}

/** How long a publisher retries one message; below the stream's duplicate window, so a retry is never stored twice. */
export const PUBLISH_GIVE_UP_MS = 60_000;
const DUPLICATE_WINDOW_MS = 2 * PUBLISH_GIVE_UP_MS;

const API_STREAM_NOT_FOUND = 10059;
const API_CONSUMER_NOT_FOUND = 10014;

const apiErrorCode = (e: unknown): number | undefined => (e instanceof NatsError ? e.api_error?.err_code : undefined);

/**
 * Creates the stream, or with `update` brings an existing one's limits to these (agents pass
 * `update: false`: the control plane owns the limits). Safe to call from many processes at once.
 * A stream of that name that holds other subjects (another prefix) is an error, not taken over.
 */
export async function ensureStream(jsm: JetStreamManager, names: NatsNames, limits: NatsStreamLimits, update: boolean): Promise<void> {
  const config = {
    name: names.stream,
    subjects: [...names.streamSubjects],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_age: nanos(limits.maxAgeMs ?? 3_600_000),
    max_bytes: limits.maxBytes ?? 1024 ** 3,
    duplicate_window: nanos(DUPLICATE_WINDOW_MS),
    num_replicas: 1,
  };
  for (let attempt = 0; ; attempt++) {
    let existing;
    try {
      existing = await jsm.streams.info(names.stream);
    } catch (e) {
      if (apiErrorCode(e) !== API_STREAM_NOT_FOUND) throw e;
      try {
        await jsm.streams.add(config);
        return;
      } catch (addError) {
        // Another process created it between our look and our add: look again.
        if (attempt < 3) continue;
        throw addError;
      }
    }
    const subjects = existing.config.subjects ?? [];
    if (subjects.length !== config.subjects.length || !config.subjects.every((s) => subjects.includes(s))) {
      throw new HerdError('invalid_flag', `the NATS stream ${names.stream} holds ${JSON.stringify(subjects)}, not herd's ${JSON.stringify(config.subjects)}`, {
        hint: 'choose another subject prefix, or delete that stream if it is left over',
      });
    }
    if (update && (existing.config.max_age !== config.max_age || existing.config.max_bytes !== config.max_bytes
      || existing.config.duplicate_window !== config.duplicate_window)) {
      await jsm.streams.update(names.stream, { ...existing.config, max_age: config.max_age, max_bytes: config.max_bytes, duplicate_window: config.duplicate_window });
    }
    return;
  }
}

/** How long a delivered message may stay unacknowledged before the server delivers it again. */
export const ACK_WAIT_MS = 10_000;

/** What a durable consumer reads and how long it outlives its last reader. */
export interface DurableConsumerSpec {
  readonly name: string;
  readonly filterSubject: string;
  /** Deleted by the server when nobody has read from it for this long. */
  readonly inactiveMs: number;
}

/**
 * Makes sure the durable consumer exists. A new one starts at the next message stored (not at
 * the stream's history: a new agent must not run last hour's assignments); an existing one
 * resumes where its last reader stopped, which is what makes a restart lose nothing.
 */
export async function ensureConsumer(jsm: JetStreamManager, stream: string, spec: DurableConsumerSpec): Promise<void> {
  try {
    await jsm.consumers.info(stream, spec.name);
    return;
  } catch (e) {
    if (apiErrorCode(e) !== API_CONSUMER_NOT_FOUND) throw e;
  }
  try {
    await jsm.consumers.add(stream, {
      durable_name: spec.name,
      filter_subject: spec.filterSubject,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.New,
      // A message the server hands to a link that is just going down (an agent cut off as the
      // control plane sends it a stop) is delivered, unacknowledged, and sent again only after
      // ack_wait; JetStream's 30 s default made such a stop arrive half a minute late. Readers
      // acknowledge as soon as the message is dispatched, so 10 s is ample.
      ack_wait: nanos(ACK_WAIT_MS),
      inactive_threshold: nanos(spec.inactiveMs),
    });
  } catch (e) {
    // Two readers of one group may create it at once; the loser finds it made.
    await jsm.consumers.info(stream, spec.name).catch(() => {
      throw e;
    });
  }
}

/**
 * Reads a durable consumer until stopped, handing each message to `handle` (which acks or
 * terminates it). The nats client re-pulls by itself across reconnects; when the consumer or
 * the stream vanishes (deleted, or expired while this process was cut off for longer than the
 * consumer's inactivity limit) the reader makes it again and goes on.
 */
export class DurableReader {
  #messages: ConsumerMessages | undefined;
  #stopped = false;
  #wake: (() => void) | undefined;
  readonly #done: Promise<void>;

  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly stream: string,
    private readonly spec: DurableConsumerSpec,
    private readonly handle: (m: JsMsg) => void,
    private readonly onError: (why: string) => void,
  ) {
    this.#done = this.#loop();
  }

  async #loop(): Promise<void> {
    let backoffMs = 100;
    while (!this.#stopped) {
      try {
        const consumer = await this.js.consumers.get(this.stream, this.spec.name);
        if (this.#stopped) return;
        // Pull requests that expire after 5s (the client's default is 30s): after a reconnect whose
        // first look at the consumer fails, the client waits one expiry before it pulls again.
        this.#messages = await consumer.consume({ max_messages: 256, expires: 5000, abort_on_missing_resource: true });
        if (this.#stopped) {
          await this.#messages.close();
          return;
        }
        for await (const m of this.#messages) {
          // Left unacknowledged, a message read after stop() goes to the next reader.
          if (this.#stopped) return;
          backoffMs = 100;
          this.handle(m);
        }
      } catch (e) {
        if (this.#stopped) return;
        this.onError(`reading ${this.spec.name} failed: ${e instanceof Error ? e.message : String(e)}`);
      }
      if (this.#stopped) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, backoffMs);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = undefined;
      if (this.#stopped) return;
      backoffMs = Math.min(backoffMs * 2, 5000);
      await ensureConsumer(this.jsm, this.stream, this.spec).catch((e: unknown) => {
        this.onError(`making ${this.spec.name} again failed: ${e instanceof Error ? e.message : String(e)}`);
      });
    }
  }

  /** Stops reading (the consumer stays on the server); safe to call twice. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wake?.();
    await this.#messages?.close().catch(() => undefined);
    await this.#done;
  }
}
