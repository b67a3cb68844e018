import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDuration } from '../config/index.js';
import { HerdError } from '../errors/index.js';
import { createApiServer } from '../cloud/api/index.js';
import { registerDashboard } from '../cloud/api/web.js';
import { ExternalRuns } from '../cloud/runs/external-runs.js';
import { RunManager } from '../cloud/runs/run-manager.js';
import { resolveServerSettings, type ServerSettingsInput } from '../cloud/scheduler/index.js';
import { hashToken, newTokenSecret, openPostgresStore, openSqliteStore, type Store } from '../cloud/store/index.js';
import { ChildProcessAgents, type ControlPlaneTransport } from '../cloud/transport/index.js';
import { connectNatsControl } from '../cloud/transport/nats.js';
import type { AgentId } from '../protocol/ids.js';
import type { CliIO } from './io.js';

/** Flags of `herd server`. */
export interface ServerFlags {
  port: string;
  host: string;
  dataDir: string;
  database?: string;
  databaseSchema?: string;
  /** This replica's name (leads of runs, NATS consumer); `<hostname>-<port>` by default. */
  name?: string;
  runLease?: string;
  agent: boolean;
  agentCapacity: string;
  launchTimeout?: string;
  agentGrace?: string;
  runTimeout?: string;
  heartbeat?: string;
  /** NATS URL (or HERD_NATS): agents connect through NATS instead of the embedded IPC channel. */
  nats?: string;
  natsPrefix?: string;
}

const HERD_BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bin', 'herd.js');

function ms(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = parseDuration(v);
  if (n === null || n <= 0) throw new HerdError('invalid_flag', `${flag} must be a duration like 30s or 500ms, got ${JSON.stringify(v)}`);
  return Math.round(n);
}

/** Server settings from flags, then HERD_* environment variables (flags win). */
function settingsFrom(flags: ServerFlags, env: Readonly<Record<string, string | undefined>>): ServerSettingsInput {
  const pick = (flag: string, value: string | undefined, envName: string): number | undefined => ms(flag, value ?? env[envName]);
  const s: Record<string, number> = {};
  const set = (k: string, v: number | undefined): void => {
    if (v !== undefined) s[k] = v;
  };
  set('launchTimeoutMs', pick('--launch-timeout', flags.launchTimeout, 'HERD_LAUNCH_TIMEOUT'));
  set('agentGraceMs', pick('--agent-grace', flags.agentGrace, 'HERD_AGENT_GRACE'));
  set('runTimeoutMs', pick('--run-timeout', flags.runTimeout, 'HERD_RUN_TIMEOUT'));
  set('heartbeatIntervalMs', pick('--heartbeat', flags.heartbeat, 'HERD_HEARTBEAT'));
  set('runLeaseMs', pick('--run-lease', flags.runLease, 'HERD_RUN_LEASE'));
  return s as ServerSettingsInput;
}

/**
 * Makes sure there is an organization, a project and an admin token. The token comes from
 * HERD_ADMIN_TOKEN when set (so scripts can start a server unattended), else a new one is
 * made and printed once: only its hash is stored.
 */
async function bootstrap(store: Store, env: Readonly<Record<string, string | undefined>>, io: CliIO): Promise<string | undefined> {
  const given = env['HERD_ADMIN_TOKEN'];
  let orgs = await store.listOrganizations();
  if (orgs.length === 0) {
    const org = await store.createOrganization({ name: 'default' });
    await store.createProject(org.id, { name: 'default' });
    orgs = [org];
  }
  const org = orgs[0];
  if (org === undefined) throw new HerdError('internal', 'no organization after bootstrap');
  if (given !== undefined && given !== '') {
    if ((await store.findTokenByHash(hashToken(given))) === undefined) {
      await store.createToken({ orgId: org.id, name: 'admin (HERD_ADMIN_TOKEN)', role: 'admin', hash: hashToken(given) });
    }
    return given;
  }
  const tokens = await store.listTokens(org.id);
  if (tokens.length > 0) {
    io.stderr('using the admin token printed when this data directory was first used (set HERD_ADMIN_TOKEN to choose one)\n');
    return undefined;
  }
  const secret = newTokenSecret();
  await store.createToken({ orgId: org.id, name: 'admin', role: 'admin', hash: hashToken(secret) });
  return secret;
}

/**
 * `herd server`: the control plane with its embedded defaults — a SQLite file in the data
 * directory (or PostgreSQL with --database), the API, and one load generator in zone `local`
 * running as a child process. A second start on the same data directory resumes.
 */
export async function serverCommand(flags: ServerFlags, io: CliIO): Promise<number> {
  const port = Number(flags.port);
  if (!/^\d+$/.test(flags.port) || port > 65535) throw new HerdError('invalid_flag', `--port must be a port number, got ${JSON.stringify(flags.port)}`);
  const capacity = Number(flags.agentCapacity);
  if (!/^\d+$/.test(flags.agentCapacity) || capacity < 1) {
    throw new HerdError('invalid_flag', `--agent-capacity must be a whole number of VUs, got ${JSON.stringify(flags.agentCapacity)}`);
  }
  const settings = settingsFrom(flags, io.env);
  const dataDir = path.resolve(io.cwd, flags.dataDir);
  const database = flags.database ?? io.env['HERD_DATABASE'];
  let store: Store;
  if (database !== undefined && /^postgres(ql)?:\/\//.test(database)) {
    const schema = flags.databaseSchema ?? io.env['HERD_DATABASE_SCHEMA'];
    store = await openPostgresStore({ connectionString: database, ...(schema === undefined ? {} : { schema }) });
  } else if (database === undefined) {
    mkdirSync(dataDir, { recursive: true });
    store = await openSqliteStore({ file: path.join(dataDir, 'herd.db') });
  } else {
    throw new HerdError('invalid_flag', `--database must be a postgres:// URL, got ${JSON.stringify(database)}`, {
      hint: 'leave it out to keep everything in a SQLite file in the data directory',
    });
  }
  const token = await bootstrap(store, io.env, io);

  // This replica's name: its durable NATS consumer and its lead of runs. By default it is
  // named after its host and port, so that a restart resumes both (its consumer replays what it
  // missed, and it takes back the runs it led at once) and replicas on one host differ; a silent
  // agent is reported lost after the agent grace (nats.ts: Replicas, Disconnects).
  const natsUrl = flags.nats ?? io.env['HERD_NATS'];
  const natsPrefix = flags.natsPrefix ?? io.env['HERD_NATS_PREFIX'];
  const natsName = flags.name ?? io.env['HERD_SERVER_NAME'] ?? `${os.hostname().replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 40)}-${port === 0 ? process.pid : port}`;
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(natsName)) {
    throw new HerdError('invalid_flag', `--name must be 1-64 letters, digits, _ or -, got ${JSON.stringify(natsName)}`);
  }
  const transport: ControlPlaneTransport = natsUrl === undefined
    ? new ChildProcessAgents()
    : await connectNatsControl(natsUrl, {
      name: natsName, lostAfterMs: resolveServerSettings(settings).agentGraceMs, ...(natsPrefix === undefined ? {} : { prefix: natsPrefix }),
    });
  const runs = new RunManager({ store, transport, settings, schedulerId: natsName });
  await runs.start();
  // Runs that k6 executes itself (k6 run --out cloud); their status changes join the live events.
  const externalRuns = new ExternalRuns({ store, settings, emit: (event) => runs.announce(event) });
  await externalRuns.start();
  const publicUrl = `http://${flags.host.includes(':') ? `[${flags.host}]` : flags.host}:${port}`;
  const api = createApiServer({ store, runs, publicUrl: io.env['HERD_PUBLIC_URL'] ?? publicUrl, isAgentHealthy: (agent) => runs.agents.isHealthy(agent.id), externalRuns });
  registerDashboard(api, path.resolve(path.dirname(HERD_BIN), '..', 'web', 'dist'));
  const address = await api.listen({ port, host: flags.host });
  const url = io.env['HERD_PUBLIC_URL'] ?? address.replace('0.0.0.0', '127.0.0.1');

  let agent: ChildProcess | undefined;
  let stopping = false;
  const agentId = (natsUrl === undefined ? 'local-1' : `${natsName}-local`) as AgentId;
  const natsArgs = natsUrl === undefined ? [] : ['--nats', natsUrl, ...(natsPrefix === undefined ? [] : ['--nats-prefix', natsPrefix])];
  const startAgent = (): void => {
    const child = fork(
      HERD_BIN,
      ['agent', '--zone', 'local', '--id', agentId, '--capacity', String(capacity), '--heartbeat', `${settings.heartbeatIntervalMs ?? 1000}ms`, ...natsArgs],
      { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' },
    );
    if (transport instanceof ChildProcessAgents) transport.attach(child, agentId);
    child.on('exit', (code, signal) => {
      if (stopping) return;
      io.stderr(`the embedded load generator stopped (${signal ?? `code ${code}`}); starting a new one\n`);
      setTimeout(() => {
        if (!stopping) startAgent();
      }, 1000).unref();
    });
    agent = child;
  };
  if (flags.agent) startAgent();

  io.stdout(`herd server listening on ${url}\n`);
  io.stdout(`data: ${database === undefined ? path.join(dataDir, 'herd.db') : 'PostgreSQL'}\n`);
  if (flags.agent) io.stdout(`load generator: ${agentId} in zone local (pid ${agent?.pid ?? '?'})\n`);
  if (token !== undefined) io.stdout(`admin token: ${token}\n`);
  io.stdout(`try: HERD_HOST=${url} HERD_TOKEN=<admin token> npx herd cloud run examples/quickstart.js\n`);

  await new Promise<void>((resolve) => {
    const off = io.onInterrupt(() => {
      off();
      resolve();
    });
  });
  stopping = true;
  io.stderr('stopping herd server\n');
  await api.close();
  await externalRuns.close();
  await runs.close();
  agent?.kill('SIGTERM');
  await transport.close();
  await store.close();
  return 0;
}
