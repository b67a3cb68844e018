import { HerdError } from '../../errors/index.js';
import type { AgentId } from '../../protocol/ids.js';

/**
 * Where herd's messages live on NATS, under one subject prefix (default `herd`, so that several
 * herd installations, or test runs, can share a NATS server):
 *
 *   <p>.agent.<agent>          control plane → agent, every message (JetStream: stream `HERD`)
 *   <p>.ctl.<agent>.<type>     agent → control plane, what a run cannot lose: initialized,
 *                              setupDone, metrics, done, teardownDone, failed, ended (JetStream)
 *   <p>.live.<agent>.<type>    agent → control plane, what the next one replaces: register,
 *                              heartbeat, log, and the transport's own `ping` and `bye` (core NATS)
 *   <p>.hail.<agent>           control plane → agent, "register again" (core NATS)
 *   <p>.events                 control plane ↔ control planes, live run events (core NATS)
 *
 * The stream holds `<p>.agent.>` and `<p>.ctl.>` only: heartbeats and pings are not stored.
 * `<agent>` is the agent id with every character outside [A-Za-z0-9-] written as `_` and two hex
 * digits (an agent id may hold `.` and `:`, which a subject token and a consumer name may not).
 */
export const DEFAULT_NATS_PREFIX = 'herd';

const WORD = /^[A-Za-z0-9_-]+$/;

/** Message types an agent sends over core NATS (fire-and-forget); every other type goes through JetStream. */
export const LIVE_TYPES: ReadonlySet<string> = new Set(['register', 'heartbeat', 'log']);

/** The transport's own core-NATS messages from an agent: a sign of life, and a goodbye. */
export const PING = 'ping';
export const BYE = 'bye';

/** Checks a subject prefix: dot-separated words of letters, digits, `_` and `-`. */
export function checkPrefix(prefix: string): string {
  if (prefix.split('.').every((w) => WORD.test(w))) return prefix;
  throw new HerdError('invalid_flag', `the NATS subject prefix must be words of letters, digits, "_" or "-" joined by ".", got ${JSON.stringify(prefix)}`);
}

/** Checks a control-plane name (its durable consumer's name): letters, digits, `_` and `-`. */
export function checkControlName(name: string): string {
  if (WORD.test(name) && name.length <= 64) return name;
  throw new HerdError('invalid_flag', `the control plane's NATS name must be 1-64 letters, digits, "_" or "-", got ${JSON.stringify(name)}`);
}

/** The JetStream stream of a prefix: `HERD` for the default one, `HERD_<prefix with . as ->` otherwise. */
export function natsStreamName(prefix: string = DEFAULT_NATS_PREFIX): string {
  return prefix === DEFAULT_NATS_PREFIX ? 'HERD' : `HERD_${checkPrefix(prefix).replaceAll('.', '-')}`;
}

/** An agent id as one subject token (and part of a consumer name). */
export function agentToken(agentId: AgentId | string): string {
  return agentId.replace(/[^A-Za-z0-9-]/g, (c) => `_${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** The agent id a subject token stands for (the inverse of agentToken). */
export function agentOfToken(token: string): string {
  return token.replace(/_([0-9a-f]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** Subjects and names of one prefix. */
export interface NatsNames {
  readonly prefix: string;
  readonly stream: string;
  /** What the stream holds. */
  readonly streamSubjects: readonly string[];
  toAgent(agentId: AgentId): string;
  hail(agentId: AgentId): string;
  /** Agent → control over JetStream; `type` is informative (the payload is what is parsed). */
  durableFromAgent(agentId: AgentId, type: string): string;
  liveFromAgent(agentId: AgentId, type: string): string;
  /** What the control plane's durable consumer reads, and what it subscribes to on core NATS. */
  readonly allDurableFromAgents: string;
  readonly allLiveFromAgents: string;
  /** The durable consumer of an agent, and of a control plane (replicas with one name share it). */
  agentConsumer(agentId: AgentId): string;
  controlConsumer(name: string): string;
  /** Live run events between control-plane replicas. */
  readonly events: string;
}

// A type token that is not a word (a malformed message) still needs a valid subject.
const typeToken = (type: string): string => (WORD.test(type) ? type : 'invalid');

/** The subjects and names under `prefix`. */
export function natsNames(prefix: string = DEFAULT_NATS_PREFIX, stream?: string): NatsNames {
  const p = checkPrefix(prefix);
  return {
    prefix: p,
    stream: stream ?? natsStreamName(p),
    streamSubjects: [`${p}.agent.>`, `${p}.ctl.>`],
    toAgent: (id) => `${p}.agent.${agentToken(id)}`,
    hail: (id) => `${p}.hail.${agentToken(id)}`,
    durableFromAgent: (id, type) => `${p}.ctl.${agentToken(id)}.${typeToken(type)}`,
    liveFromAgent: (id, type) => `${p}.live.${agentToken(id)}.${typeToken(type)}`,
    allDurableFromAgents: `${p}.ctl.>`,
    allLiveFromAgents: `${p}.live.*.*`,
    agentConsumer: (id) => `agent_${agentToken(id)}`,
    controlConsumer: (name) => `control_${checkControlName(name)}`,
    events: `${p}.events`,
  };
}

/** The agent (decoded) and type of a `<p>.<kind>.<agent>.<type>` subject; undefined for any other shape. */
export function agentOfSubject(names: NatsNames, subject: string): { agent: string; type: string } | undefined {
  const rest = subject.slice(names.prefix.length + 1).split('.');
  const token = rest[1];
  const type = rest[2];
  if (rest.length !== 3 || token === undefined || type === undefined) return undefined;
  return { agent: agentOfToken(token), type };
}
