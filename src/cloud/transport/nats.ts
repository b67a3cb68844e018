import { connect, Events, type JsMsg, type Msg, type NatsConnection, type Subscription } from 'nats';
import { HerdError } from '../../errors/index.js';
import type { AgentToControl, ControlToAgent } from '../../protocol/agent-messages.js';
import { agentIdSchema, type AgentId } from '../../protocol/ids.js';
import { dispatch, logInvalidMessage, parseAgentMessage, parseControlMessage, type InvalidMessageHandler } from './message-validation.js';
import { JetStreamPublisher } from './nats-publisher.js';
import { DurableReader, ensureConsumer, ensureStream, type DurableConsumerSpec, type NatsStreamLimits } from './nats-stream.js';
import { agentOfSubject, BYE, checkControlName, LIVE_TYPES, natsNames, PING, type NatsNames } from './nats-subjects.js';
import type { AgentTransport, ControlPlaneTransport } from './transport.js';

// The NATS transport: control planes and agents on any number of machines, through one NATS
// server or cluster with JetStream. Subjects and the stream are described in nats-subjects.ts.
//
// Delivery. Everything a run cannot lose travels through JetStream: every control-plane message
// (assign, setup, start, teardown, stop) and the agents' run results (initialized, setupDone,
// metrics, done, teardownDone, failed, ended). Publishers wait for the stream's acknowledgement
// and re-send with the same message id until it comes (nats-publisher.ts), so a message sent
// during a NATS outage is stored once when the link is back. Readers use durable consumers and
// acknowledge after the handlers ran, so a message is delivered at least once, also across a
// restart of the reading process: an agent's consumer is named by its agent id, a control
// plane's by its name. Repeats are possible (a process dying between handling and
// acknowledging); metric batches carry sequence numbers and the run manager's transitions are
// compare-and-set, so a repeat changes nothing. register, heartbeat and log are core NATS
// (fire-and-forget: the next heartbeat replaces a lost one).
//
// Replicas. Every control plane with its own name reads every agent message (broadcast): the
// run manager keeps a live run in the memory of the replica that launched it, so each replica
// must hear every run's messages and drop those of runs it does not lead. Control planes
// started with the same name share one durable consumer, and each message goes to one of them
// (a work queue); that is for a successor taking over a name, not for replicas running side by
// side. Core messages (register, heartbeat, log) go to every control plane whatever its name.
//
// Disconnects. An agent's end publishes a `ping` every keepaliveMs and a `bye` when closed. The
// control plane reports an agent lost on its `bye`, or when nothing came over core NATS from it
// for lostAfterMs while the control plane's own link was up (an agent that dies without a word,
// or whose link is cut; `herd server` sets lostAfterMs to its agent grace). A brief outage below
// that is reported to nobody: the NATS client reconnects, the durable consumers resume, and the
// agent does not register again (the run manager takes a second register for a restarted
// process and ends its runs). Only an agent that was reported lost and is heard again is asked
// to register again (a `hail`), so the control plane can use it for new runs. The run manager's
// agentGraceMs and runTimeoutMs timers stay the last word on silent agents.

/** How a NATS transport connects (both ends). */
export interface NatsConnectOptions {
  /** Subject prefix shared by the control planes and agents of one installation; `herd` by default. */
  readonly prefix?: string;
  /** The stream's name; `HERD` for the default prefix, `HERD_<prefix>` otherwise. */
  readonly stream?: string;
  /** Told about every message dropped as invalid (or unsendable); NODE_DEBUG=herd:transport by default. */
  readonly onInvalid?: InvalidMessageHandler;
  /** Pause between reconnect attempts; 1s by default. The client retries forever. */
  readonly reconnectTimeWaitMs?: number;
  /** A durable consumer nobody read from for this long is deleted by the server; 10 minutes by default. */
  readonly consumerInactiveMs?: number;
}

/** Options of a control plane's end. */
export interface NatsControlOptions extends NatsConnectOptions, NatsStreamLimits {
  /**
   * This control plane's name ([A-Za-z0-9_-]): its durable consumer is `control_<name>`, so a
   * restart under the same name resumes where it stopped. Replicas need different names.
   * `control` by default.
   */
  readonly name?: string;
  /** An agent from which nothing came over core NATS for this long is reported lost; 30s (the default agent grace) by default. */
  readonly lostAfterMs?: number;
}

/** Options of an agent's end. */
export interface NatsAgentOptions extends NatsConnectOptions {
  /** How often the agent's end says it is alive; 1s by default (keep it well below the control planes' lostAfterMs). */
  readonly keepaliveMs?: number;
}

/** The control plane's end of the NATS transport. */
export interface NatsControlPlaneTransport extends ControlPlaneTransport {
  /** Sends what is queued (5s at most), stops reading and closes the connection; safe to call twice. */
  close(): Promise<void>;
  /** Closes the connection now, dropping what is queued. */
  destroy(): void;
}

/** An agent's end of the NATS transport. */
export interface NatsAgentTransport extends AgentTransport {
  /** Sends what is queued (5s at most), says goodbye to the control planes, and closes; safe to call twice. */
  close(): Promise<void>;
  /** Closes the connection now without a goodbye, as a crash would (the control planes notice by silence). */
  destroy(): void;
}

const DEFAULT_INACTIVE_MS = 10 * 60_000;
const CLOSE_FLUSH_MS = 5000;
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

async function connectTo(url: string, name: string, opts: NatsConnectOptions): Promise<NatsConnection> {
  try {
    return await connect({ servers: url, name, maxReconnectAttempts: -1, reconnectTimeWait: opts.reconnectTimeWaitMs ?? 1000 });
  } catch (e) {
    throw new HerdError('invalid_flag', `could not connect to NATS at ${url}: ${errorText(e)}`, {
      hint: 'check the NATS URL, and that nats-server is running with JetStream enabled (nats-server -js)', cause: e,
    });
  }
}

/** Creates the stream and the durable consumer, closing the connection if either fails. */
async function prepare(nc: NatsConnection, url: string, names: NatsNames, limits: NatsStreamLimits, owner: boolean, spec: DurableConsumerSpec) {
  try {
    const jsm = await nc.jetstreamManager();
    await ensureStream(jsm, names, limits, owner);
    await ensureConsumer(jsm, names.stream, spec);
    return { jsm, js: nc.jetstream() };
  } catch (e) {
    await nc.close().catch(() => undefined);
    if (e instanceof HerdError) throw e;
    throw new HerdError('invalid_flag', `could not set up JetStream stream ${names.stream} on NATS at ${url}: ${errorText(e)}`, {
      hint: 'herd needs JetStream: start nats-server with -js (or jetstream {} in its configuration)', cause: e,
    });
  }
}

/**
 * Closes a connection: with `drain`, lets what it buffered go first, but only for a while
 * (a connection that is reconnecting would otherwise never finish draining).
 */
async function closeConnection(nc: NatsConnection, drain: boolean): Promise<void> {
  if (drain && !nc.isClosed()) {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      nc.drain().catch(() => undefined),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, CLOSE_FLUSH_MS);
      }),
    ]);
    clearTimeout(timer);
  }
  await nc.close().catch(() => undefined);
}

/** Decodes a JSON payload, reporting (and returning undefined for) one that is not JSON. */
function decodeJSON(data: Uint8Array, onInvalid: InvalidMessageHandler, subject: string): { ok: true; value: unknown } | { ok: false } {
  const text = decoder.decode(data);
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    onInvalid(`not JSON on ${subject}`, text);
    return { ok: false };
  }
}

/** Acknowledges a JetStream message; on a closed connection it is left for redelivery. */
function settle(m: JsMsg, ok: boolean): void {
  try {
    if (ok) m.ack();
    else m.term();
  } catch {
    // The connection closed under us: the server redelivers to the consumer's next reader.
  }
}

/**
 * Connects a control plane to NATS: creates or updates the stream (idempotent), creates or
 * resumes its durable consumer `control_<name>`, and starts listening to agents. Reading the
 * durable consumer starts with the first onMessage handler, so nothing stored is taken before
 * someone listens.
 */
export async function connectNatsControl(url: string, opts: NatsControlOptions = {}): Promise<NatsControlPlaneTransport> {
  const names = natsNames(opts.prefix, opts.stream);
  const name = checkControlName(opts.name ?? 'control');
  const lostAfterMs = opts.lostAfterMs ?? 30_000;
  if (!(lostAfterMs > 0)) throw new HerdError('invalid_flag', `lostAfterMs must be a positive number of milliseconds, got ${lostAfterMs}`);
  const nc = await connectTo(url, `herd control ${name}`, opts);
  const spec = { name: names.controlConsumer(name), filterSubject: names.allDurableFromAgents, inactiveMs: opts.consumerInactiveMs ?? DEFAULT_INACTIVE_MS };
  const { js, jsm } = await prepare(nc, url, names, opts, true, spec);
  const onInvalid = opts.onInvalid ?? logInvalidMessage;
  const messageHandlers: Array<(m: AgentToControl) => void> = [];
  const disconnectHandlers: Array<(d: { agentId: AgentId; why: string; silent: boolean }) => void> = [];
  const publisher = new JetStreamPublisher(js, (why, m) => onInvalid(`dropped a message to an agent: ${why}`, m));
  // Agents heard over core NATS (ms, monotonic), and those reported lost since.
  const heard = new Map<AgentId, number>();
  const lost = new Set<AgentId>();
  let reader: DurableReader | undefined;
  let linkUp = true;
  let closed = false;
  let closing: Promise<void> | undefined;

  const lose = (agentId: AgentId, why: string, silent: boolean): void => {
    if (!heard.delete(agentId)) return;
    lost.add(agentId);
    dispatch(disconnectHandlers, { agentId, why, silent }, onInvalid);
  };
  const hear = (agentId: AgentId, registers: boolean): void => {
    heard.set(agentId, performance.now());
    if (lost.delete(agentId) && !registers && !closed) nc.publish(names.hail(agentId));
  };

  const onLive = (msg: Msg): void => {
    if (closed) return;
    const where = agentOfSubject(names, msg.subject);
    const id = agentIdSchema.safeParse(where?.agent);
    if (where === undefined || !id.success) {
      onInvalid(`a message on ${msg.subject}, which names no agent`, decoder.decode(msg.data));
      return;
    }
    if (where.type === PING) return hear(id.data, false);
    if (where.type === BYE) return lose(id.data, 'it closed its NATS connection', false);
    const raw = decodeJSON(msg.data, onInvalid, msg.subject);
    if (!raw.ok) return;
    const parsed = parseAgentMessage(raw.value, onInvalid, id.data);
    if (parsed === undefined) return;
    hear(id.data, parsed.type === 'register');
    dispatch(messageHandlers, parsed, onInvalid);
  };
  const sub: Subscription = nc.subscribe(names.allLiveFromAgents, { callback: (_err, msg) => onLive(msg) });

  // Durable messages are no sign of life: they may be replayed long after they were sent.
  const onDurable = (m: JsMsg): void => {
    if (closed) return;
    const where = agentOfSubject(names, m.subject);
    if (where === undefined) onInvalid(`a message on ${m.subject}, which names no agent`, decoder.decode(m.data));
    const raw = decodeJSON(m.data, onInvalid, m.subject);
    const parsed = where === undefined || !raw.ok ? undefined : parseAgentMessage(raw.value, onInvalid, where.agent as AgentId);
    if (parsed !== undefined) dispatch(messageHandlers, parsed, onInvalid);
    settle(m, parsed !== undefined);
  };

  // Silence counts only while this end's own link is up, and only as far as the timer ran on
  // time: after an outage or a blocked event loop every agent gets a fresh lostAfterMs.
  const checkEveryMs = Math.max(10, Math.floor(lostAfterMs / 4));
  let lastCheck = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    const late = now - lastCheck > 2 * checkEveryMs;
    lastCheck = now;
    if (!linkUp || late) {
      for (const id of heard.keys()) heard.set(id, now);
      return;
    }
    for (const [id, at] of heard) {
      if (now - at >= lostAfterMs) lose(id, `nothing came from it over NATS for ${lostAfterMs / 1000}s`, true);
    }
  }, checkEveryMs);
  timer.unref();

  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === Events.Disconnect) linkUp = false;
      if (s.type === Events.Reconnect) linkUp = true;
    }
  })().catch(() => undefined);

  const shutdown = async (flush: boolean): Promise<void> => {
    closed = true;
    clearInterval(timer);
    if (flush) await publisher.flush(CLOSE_FLUSH_MS);
    publisher.stop();
    sub.unsubscribe();
    eventsSub.unsubscribe();
    await reader?.stop();
    await closeConnection(nc, flush && linkUp);
  };

  // Live events between replicas: each message says who sent it, so a replica skips its own.
  const self = `${name}/${process.pid}/${Math.random().toString(36).slice(2)}`;
  const replicaHandlers: Array<(payload: unknown) => void> = [];
  const eventsSub: Subscription = nc.subscribe(names.events, {
    callback: (_err, msg) => {
      if (closed) return;
      const raw = decodeJSON(msg.data, onInvalid, msg.subject);
      if (!raw.ok || typeof raw.value !== 'object' || raw.value === null) return;
      const { from, payload } = raw.value as { from?: unknown; payload?: unknown };
      if (from === self) return;
      dispatch(replicaHandlers, payload, onInvalid);
    },
  });

  return {
    replicas: {
      publish(payload: unknown) {
        if (closed) return;
        try {
          nc.publish(names.events, encoder.encode(JSON.stringify({ from: self, payload })));
        } catch (e) {
          onInvalid(`could not share a live event with the other replicas: ${errorText(e)}`, payload);
        }
      },
      onMessage(handler: (payload: unknown) => void) {
        replicaHandlers.push(handler);
      },
    },
    onMessage(handler) {
      messageHandlers.push(handler);
      reader ??= new DurableReader(js, jsm, names.stream, spec, onDurable, (why) => onInvalid(why, undefined));
    },
    onDisconnect(handler) {
      disconnectHandlers.push(({ agentId, why, silent }) => handler(agentId, why, silent));
    },
    send(agentId: AgentId, message: ControlToAgent) {
      if (closed) return;
      // Sent whether or not the agent is connected now: its durable consumer keeps the message
      // until it reads again (an agent without one never existed, and nothing stores it for it).
      publisher.publish(agentId, names.toAgent(agentId), encoder.encode(JSON.stringify(message)), message);
    },
    close() {
      closing ??= shutdown(true);
      return closing;
    },
    destroy() {
      closing ??= shutdown(false);
    },
  };
}

/**
 * Connects an agent to NATS: makes sure the stream exists, creates or resumes the agent's
 * durable consumer `agent_<id>`, and starts its keepalive. Reading starts with the first
 * onMessage handler.
 */
export async function connectNatsAgent(url: string, agentId: AgentId, opts: NatsAgentOptions = {}): Promise<NatsAgentTransport> {
  const names = natsNames(opts.prefix, opts.stream);
  const checked = agentIdSchema.safeParse(agentId);
  if (!checked.success) {
    throw new HerdError('invalid_flag', `the agent id must be 1-64 letters, digits, "_", ".", ":" or "-" starting with a letter or digit, got ${JSON.stringify(agentId)}`);
  }
  const keepaliveMs = opts.keepaliveMs ?? 1000;
  const nc = await connectTo(url, `herd agent ${agentId}`, opts);
  const spec = { name: names.agentConsumer(agentId), filterSubject: names.toAgent(agentId), inactiveMs: opts.consumerInactiveMs ?? DEFAULT_INACTIVE_MS };
  const { js, jsm } = await prepare(nc, url, names, {}, false, spec);
  const onInvalid = opts.onInvalid ?? logInvalidMessage;
  const handlers: Array<(m: ControlToAgent) => void> = [];
  const publisher = new JetStreamPublisher(js, (why, m) => onInvalid(`dropped a message to the control plane: ${why}`, m));
  let reader: DurableReader | undefined;
  let register: Uint8Array | undefined;
  let closed = false;
  let closing: Promise<void> | undefined;

  const publishLive = (type: string, data?: Uint8Array): void => {
    try {
      nc.publish(names.liveFromAgent(agentId, type), data);
    } catch (e) {
      // Only a closed connection throws; a reconnecting one buffers.
      onInvalid(`could not send ${type}: ${errorText(e)}`, undefined);
    }
  };
  const registerAgain = (): void => {
    if (!closed && register !== undefined) publishLive('register', register);
  };
  const hails = nc.subscribe(names.hail(agentId), { callback: () => registerAgain() });
  const ping = setInterval(() => publishLive(PING), keepaliveMs);
  ping.unref();
  let linkUp = true;
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === Events.Disconnect) linkUp = false;
      if (s.type === Events.Reconnect) linkUp = true;
    }
  })().catch(() => undefined);

  const onDurable = (m: JsMsg): void => {
    if (closed) return;
    const raw = decodeJSON(m.data, onInvalid, m.subject);
    const parsed = raw.ok ? parseControlMessage(raw.value, onInvalid) : undefined;
    if (parsed !== undefined) dispatch(handlers, parsed, onInvalid);
    // A handler may have destroyed this end (a crash): then the message is left for redelivery.
    if (!closed) settle(m, parsed !== undefined);
  };

  const shutdown = async (flush: boolean): Promise<void> => {
    closed = true;
    clearInterval(ping);
    hails.unsubscribe();
    const stopped = reader?.stop();
    if (!flush) {
      publisher.stop();
      await closeConnection(nc, false);
      await stopped;
      return;
    }
    await stopped;
    await publisher.flush(CLOSE_FLUSH_MS);
    publisher.stop();
    publishLive(BYE);
    await closeConnection(nc, linkUp);
  };

  return {
    onMessage(handler) {
      handlers.push(handler);
      reader ??= new DurableReader(js, jsm, names.stream, spec, onDurable, (why) => onInvalid(why, undefined));
    },
    send(message: AgentToControl) {
      if (closed) return;
      const type = String((message as { type?: unknown }).type);
      const data = encoder.encode(JSON.stringify(message));
      if (LIVE_TYPES.has(type)) {
        if (type === 'register') register = data;
        publishLive(type, data);
      } else {
        publisher.publish('control', names.durableFromAgent(agentId, type), data, message);
      }
    },
    close() {
      closing ??= shutdown(true);
      return closing;
    },
    destroy() {
      closing ??= shutdown(false);
    },
  };
}
