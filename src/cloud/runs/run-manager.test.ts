import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { AgentId, OrgId, ProjectId, RunId } from '../../protocol/ids.js';
import type { OrgLimits } from '../../protocol/organization.js';
import { isFinal } from '../../protocol/run-status.js';
import type { Run } from '../../protocol/run.js';
import type { ServerSettingsInput } from '../scheduler/index.js';
import { openSqliteStore, type KyselyStore } from '../store/index.js';
import { createInProcessTransport } from '../transport/index.js';
import { RunManager } from './run-manager.js';
import type { RunEvent } from './service.js';
import { archiveWith } from './testdata/archive.js';
import { FakeAgent, type FakeBehaviour } from './testdata/fake-agent.js';

// Short timeouts so every status is reached in well under a second. runTimeoutMs is shorter than
// agentGraceMs on purpose: a disconnected generator must still read "lost", not "timed out".
// The fake agents heartbeat every 30 ms, well inside heartbeatIntervalMs, so a loaded CI machine
// does not make them look unhealthy.
const FAST: ServerSettingsInput = {
  schedulerTickMs: 15, thresholdEvalMs: 40, progressIntervalMs: 40, startDelayMs: 10, heartbeatIntervalMs: 150,
  agentGraceMs: 900, runTimeoutMs: 500, launchTimeoutMs: 400, runLeaseMs: 300,
};
const OK_OPTIONS = { vus: 2, duration: '1s', thresholds: { http_req_duration: ['p(95)<500'] } };

interface AgentSpec {
  readonly id: string;
  readonly zone?: string;
  readonly capacity?: number;
  readonly behaviours?: readonly FakeBehaviour[];
}

interface Harness {
  readonly store: KyselyStore;
  readonly manager: RunManager;
  readonly orgId: OrgId;
  readonly projectId: ProjectId;
  readonly agents: FakeAgent[];
  readonly events: RunEvent[];
  submit(options: Record<string, unknown> | Uint8Array): Promise<Run>;
  settle(runId: RunId): Promise<Run>;
  until(what: string, ready: () => Promise<boolean> | boolean): Promise<void>;
  history(runId: RunId): Promise<string[]>;
}

async function withHarness(
  spec: { agents?: readonly AgentSpec[]; settings?: ServerSettingsInput; limits?: Partial<OrgLimits> },
  fn: (h: Harness) => Promise<void>,
): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'herd-runs-'));
  const store = await openSqliteStore({ file: join(dir, 'herd.db') });
  const transport = createInProcessTransport();
  const manager = new RunManager({ store, transport: transport.control, settings: { ...FAST, ...spec.settings } });
  const events: RunEvent[] = [];
  manager.subscribe((e) => events.push(e));
  const agents = (spec.agents ?? [{ id: 'agent-1' }]).map((a) => new FakeAgent(transport, a.id as AgentId, a.zone ?? 'local', a.capacity ?? 1000, a.behaviours));
  try {
    const org = await store.createOrganization({ name: 'acme', ...(spec.limits === undefined ? {} : { limits: spec.limits }) });
    const project = await store.createProject(org.id, { name: 'default' });
    await manager.start();
    for (const a of agents) a.connect(30);
    const until = async (what: string, ready: () => Promise<boolean> | boolean): Promise<void> => {
      const deadline = Date.now() + 5000;
      while (!(await ready())) {
        if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    await until('the agents to register', () => manager.agents.list().length === agents.length);
    const h: Harness = {
      store, manager, orgId: org.id, projectId: project.id, agents, events,
      async submit(options) {
        const archive = options instanceof Uint8Array ? options : await archiveWith(options);
        return manager.submit(org.id, { projectId: project.id, testName: 'checkout', archive });
      },
      async settle(runId) {
        let run: Run | undefined;
        await until(`run ${runId} to end`, async () => {
          run = await store.getRun(org.id, runId);
          return run !== undefined && isFinal(run.status);
        });
        return run as Run;
      },
      until,
      async history(runId) {
        return ((await store.getStatusHistory(org.id, runId)) ?? []).map((c) => `${c.status.name}:${c.reason}`);
      },
    };
    await fn(h);
  } finally {
    for (const a of agents) a.dispose();
    await manager.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Submits OK_OPTIONS and waits until the run is Running on the harness's first agent. */
async function runningOnFirstAgent(h: Harness): Promise<{ agent: FakeAgent; id: RunId }> {
  const { id } = await h.submit(OK_OPTIONS);
  await h.until('the run to run', async () => (await h.store.getRun(h.orgId, id))?.status.name === 'Running');
  return { agent: h.agents[0] as FakeAgent, id };
}

const NORMAL_PATH = ['Created:created', 'Validated:validated', 'Queued:queued', 'Initializing:placed', 'Running:started'];

describe('run lifecycle', () => {
  it('takes a run from Created to Finished with result passed, keeping the whole history in order', () => withHarness({}, async (h) => {
    const submitted = await h.submit(OK_OPTIONS);
    assert.equal(submitted.vus, 2);
    assert.equal(submitted.durationSeconds, 31, '1s plus the default 30s graceful stop');
    const run = await h.settle(submitted.id);
    assert.equal(run.status.name, 'Finished');
    assert.equal(run.result, 'passed');
    assert.deepEqual(await h.history(run.id), [...NORMAL_PATH, 'Finished:completed']);
    assert.deepEqual(
      h.events.filter((e) => e.type === 'status' && e.runId === run.id).map((e) => e.type === 'status' && e.status.name),
      ['Created', 'Validated', 'Queued', 'Initializing', 'Running', 'Finished'],
    );
    const [result] = (await h.store.listThresholdResults(h.orgId, run.id)) ?? [];
    assert.deepEqual([result?.metric, result?.expression, result?.passed], ['http_req_duration', 'p(95)<500', true]);
    // The agent got its share and the conversation in order.
    assert.deepEqual(h.agents[0]?.received.map((m) => m.type), ['assign', 'setup', 'start', 'teardown']);
    const assign = h.agents[0]?.received[0];
    assert.ok(assign?.type === 'assign');
    assert.deepEqual([assign.segment, assign.sequence, assign.lifecycle, assign.tags], ['0:1', '0,1', true, { load_zone: 'local', instance_id: 'agent-1' }]);
    const summary = await h.manager.summary(h.orgId, run.id);
    const metrics = summary?.['metrics'] as Record<string, { values: Record<string, number>; thresholds?: Record<string, { ok: boolean }> }>;
    assert.equal(metrics['http_reqs']?.values['count'], 30);
    assert.deepEqual(metrics['http_req_duration']?.thresholds, { 'p(95)<500': { ok: true } });
    const points = await h.manager.metricSeries(h.orgId, run.id, 'http_reqs');
    assert.equal(points?.reduce((s, p) => s + (p.values['count'] ?? 0), 0), 30);
    const usage = await h.store.getUsage(h.orgId, run.startedAt?.slice(0, 7) ?? '');
    assert.equal(usage.runs, 1);
    assert.ok(usage.vuHours > 0);
  }));

  it('ends Finished with result failed when a threshold fails at the end', () => withHarness({ agents: [{ id: 'agent-1', behaviours: [{ durationMs: 800 }] }] }, async (h) => {
    const run = await h.settle((await h.submit(OK_OPTIONS)).id);
    assert.deepEqual([run.status.name, run.result], ['Finished', 'failed']);
    assert.match(run.lastChange.message, /thresholds crossed on http_req_duration/);
    assert.equal((await h.store.listThresholdResults(h.orgId, run.id))?.[0]?.passed, false);
  }));

  it('ends Aborted by threshold when an abortOnFail threshold is crossed, and stops the generators', () => withHarness({
    agents: [{ id: 'agent-1', behaviours: [{ durationMs: 800, batches: 1000 }] }],
  }, async (h) => {
    const run = await h.settle((await h.submit({ vus: 1, duration: '1m', thresholds: { http_req_duration: [{ threshold: 'p(95)<500', abortOnFail: true }] } })).id);
    assert.deepEqual([run.status.name, run.lastChange.reason, run.result], ['Aborted by threshold', 'thresholds_crossed', 'failed']);
    assert.match(run.lastChange.message, /^threshold "p\(95\)<500" on http_req_duration \(observed 800\) crossed/);
    assert.deepEqual(await h.history(run.id), [...NORMAL_PATH, 'Aborted by threshold:thresholds_crossed']);
    await h.until('the stop', () => h.agents[0]?.received.some((m) => m.type === 'stop' && m.reason === 'thresholds_crossed') === true);
  }));

  it('ends Aborted by limit before running for too many VUs or too long a test, with the limit in the reason', () => withHarness({}, async (h) => {
    const vus = await h.settle((await h.submit({ vus: 20_001, duration: '1m' })).id);
    assert.deepEqual([vus.status.name, vus.lastChange.reason], ['Aborted by limit', 'limit_vus']);
    assert.match(vus.lastChange.message, /^max VUs 20,001 exceeds the limit of 20,000 VUs/);
    assert.deepEqual(await h.history(vus.id), ['Created:created', 'Aborted by limit:limit_vus']);
    const long = await h.settle((await h.submit({ vus: 1, duration: '61m' })).id);
    assert.deepEqual([long.status.name, long.lastChange.reason], ['Aborted by limit', 'limit_duration']);
    assert.match(long.lastChange.message, /^total duration 3,690s exceeds the limit of 1h;/);
    assert.equal(h.agents[0]?.received.length, 0, 'nothing reached a generator');
  }));

  it('ends Aborted by limit when the monthly VU-hour cap would be exceeded, with the estimate and the cap', () => withHarness({ limits: { monthlyVuHourCap: 1 } }, async (h) => {
    const run = await h.settle((await h.submit({ vus: 100, duration: '59m' })).id);
    assert.deepEqual([run.status.name, run.lastChange.reason], ['Aborted by limit', 'limit_vu_hours']);
    assert.match(run.lastChange.message, /estimated 99\.17 VU-hours, but 0 of the monthly cap of 1 VU-hours are used/);
  }));

  it('ends Aborted by script error for an archive that cannot be read or options that cannot be evaluated', () => withHarness({}, async (h) => {
    const bad = await h.settle((await h.submit(new Uint8Array([1, 2, 3, 4]))).id);
    assert.deepEqual([bad.status.name, bad.lastChange.reason], ['Aborted by script error', 'script_error']);
    assert.match(bad.lastChange.message, /^the archive cannot be read: .*gzip/);
    const options = await h.settle((await h.submit({ scenarios: { s: { executor: 'constant-vus', vus: -1, duration: '1m' } } })).id);
    assert.deepEqual([options.status.name, options.lastChange.reason], ['Aborted by script error', 'invalid_options']);
    assert.match(options.lastChange.message, /scenarios\.s\.vus/);
    const dist = await h.settle((await h.submit({ vus: 1, duration: '1s', cloud: { distribution: { a: { loadZone: 'local', percent: 60 } } } })).id);
    assert.match(dist.lastChange.message, /options\.cloud\.distribution percents must add up to 100/);
  }));

  it('ends Aborted by script error with the generator\'s message when init code or setup() throws, or the script calls test.abort()', () => withHarness({
    agents: [{ id: 'agent-1', behaviours: [{ initError: 'ReferenceError: x is not defined at script.js:3:1' }, { setupError: 'Error: no token at script.js:9:7' }, { afterFirstBatch: 'abort', batches: 100 }] }],
  }, async (h) => {
    const init = await h.settle((await h.submit(OK_OPTIONS)).id);
    assert.deepEqual([init.status.name, init.lastChange.reason], ['Aborted by script error', 'init_error']);
    assert.equal(init.lastChange.message, 'init code failed on load generator agent-1: ReferenceError: x is not defined at script.js:3:1');
    assert.deepEqual(await h.history(init.id), [...NORMAL_PATH.slice(0, 4), 'Aborted by script error:init_error']);
    const setup = await h.settle((await h.submit(OK_OPTIONS)).id);
    assert.deepEqual([setup.status.name, setup.lastChange.reason], ['Aborted by script error', 'setup_error']);
    assert.match(setup.lastChange.message, /setup\(\) failed on load generator agent-1: Error: no token at script.js:9:7/);
    const aborted = await h.settle((await h.submit(OK_OPTIONS)).id);
    assert.deepEqual([aborted.status.name, aborted.lastChange.reason], ['Aborted by script error', 'script_abort']);
    assert.match(aborted.lastChange.message, /test\.abort\(\).*script\.js:12:5/);
  }));

  it('ends Aborted by system after the launch timeout when a requested load zone has no generator, naming the zone', () => withHarness({}, async (h) => {
    const run = await h.settle((await h.submit({ vus: 1, duration: '1s', cloud: { distribution: { mars: { loadZone: 'mars', percent: 100 } } } })).id);
    assert.deepEqual([run.status.name, run.lastChange.reason], ['Aborted by system', 'launch_timeout']);
    assert.match(run.lastChange.message, /load zone "mars" had no healthy load generator within the launch timeout/);
    assert.deepEqual(await h.history(run.id), ['Created:created', 'Validated:validated', 'Queued:queued', 'Aborted by system:launch_timeout']);
  }));

  it('ends Aborted by system naming the generator when its link drops and it does not come back', () => withHarness({
    agents: [{ id: 'agent-1', behaviours: [{ afterFirstBatch: 'disconnect', batches: 100 }] }],
  }, async (h) => {
    const run = await h.settle((await h.submit(OK_OPTIONS)).id);
    assert.deepEqual([run.status.name, run.lastChange.reason], ['Aborted by system', 'agent_lost']);
    assert.match(run.lastChange.message, /^load generator agent-1 in zone local lost: the agent process exited with code 137/);
    const usage = await h.store.getUsage(h.orgId, run.startedAt?.slice(0, 7) ?? '');
    assert.equal(usage.runs, 0, 'a run aborted by the system does not count');
  }));

  it('ends Aborted by system naming the generator when it heartbeats but does not hold its share (the assignment was lost)', () => withHarness({
    agents: [{ id: 'agent-1', behaviours: [{ loseAssignment: true }] }],
    settings: { runTimeoutMs: 60_000 },
  }, async (h) => {
    const run = await h.settle((await h.submit(OK_OPTIONS)).id);
    assert.deepEqual([run.status.name, run.lastChange.reason], ['Aborted by system', 'agent_lost']);
    assert.match(run.lastChange.message, /^load generator agent-1 in zone local lost its share of the run: its heartbeats have not listed the run for/);
  }));

  it('goes on when a generator holding a share registers again as the same process, and ends Aborted by system when it registers as a new one', () => withHarness({
    agents: [{ id: 'agent-1', behaviours: [{ batches: 1000 }] }],
    settings: { runTimeoutMs: 60_000 },
  }, async (h) => {
    const { agent, id } = await runningOnFirstAgent(h);
    // Each control-plane replica that reported it lost asks it to register: repeats of one process.
    agent.register();
    agent.register();
    await new Promise((r) => setTimeout(r, 200));
    assert.equal((await h.store.getRun(h.orgId, id))?.status.name, 'Running', 'a repeated register is no restart');
    agent.register('fake-process-2');
    const run = await h.settle(id);
    assert.deepEqual([run.status.name, run.lastChange.reason], ['Aborted by system', 'agent_lost']);
    assert.match(run.lastChange.message, /^load generator agent-1 in zone local lost: it restarted during the run/);
  }));

  it('takes a register without an incarnation (an older agent) from a generator holding a share as a restart', () => withHarness({
    agents: [{ id: 'agent-1', behaviours: [{ batches: 1000 }] }],
    settings: { runTimeoutMs: 60_000 },
  }, async (h) => {
    const { agent, id } = await runningOnFirstAgent(h);
    agent.incarnation = undefined;
    agent.register();
    const run = await h.settle(id);
    assert.deepEqual([run.status.name, run.lastChange.reason], ['Aborted by system', 'agent_lost']);
  }));

  it('ends Timed out when nothing arrives from the generators for the run timeout', () => withHarness({
    agents: [{ id: 'agent-1', behaviours: [{ afterFirstBatch: 'silence', batches: 100 }] }],
  }, async (h) => {
    const run = await h.settle((await h.submit(OK_OPTIONS)).id);
    assert.deepEqual([run.status.name, run.lastChange.reason], ['Timed out', 'run_timeout']);
    assert.match(run.lastChange.message, /^nothing was received from the run's load generators for/);
  }));

  it('ends Aborted by user on abort, tells the generators to stop, and counts the usage', () => withHarness({
    agents: [{ id: 'agent-1', behaviours: [{ batches: 1000 }] }],
  }, async (h) => {
    const { id } = await h.submit(OK_OPTIONS);
    await h.until('Running', async () => (await h.store.getRun(h.orgId, id))?.status.name === 'Running');
    await new Promise((r) => setTimeout(r, 30));
    const aborted = await h.manager.abort(h.orgId, id);
    assert.deepEqual([aborted?.status.name, aborted?.lastChange.reason], ['Aborted by user', 'user_abort']);
    assert.deepEqual(await h.history(id), [...NORMAL_PATH, 'Aborted by user:user_abort']);
    await h.until('the stop', () => h.agents[0]?.received.some((m) => m.type === 'stop' && m.reason === 'user_abort') === true);
    assert.equal((await h.store.getUsage(h.orgId, aborted?.startedAt?.slice(0, 7) ?? '')).runs, 1);
    assert.equal(await h.manager.abort('999' as OrgId, id), undefined, 'another organization cannot see it');
  }));

  it('keeps a run beyond the organization\'s concurrency limit Queued until the first one ends', () => withHarness({
    limits: { maxConcurrentRuns: 1 },
    agents: [{ id: 'agent-1', behaviours: [{ batches: 15 }, {}] }],
  }, async (h) => {
    const first = await h.submit(OK_OPTIONS);
    await h.until('the first running', async () => (await h.store.getRun(h.orgId, first.id))?.status.name === 'Running');
    const second = await h.submit(OK_OPTIONS);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal((await h.store.getRun(h.orgId, second.id))?.status.name, 'Queued');
    const one = await h.settle(first.id);
    const two = await h.settle(second.id);
    assert.deepEqual([one.status.name, two.status.name], ['Finished', 'Finished']);
    const placed = (await h.store.getStatusHistory(h.orgId, second.id))?.find((c) => c.status.name === 'Initializing');
    assert.ok(placed !== undefined && one.endedAt !== null && placed.at >= one.endedAt, 'the second starts after the first ends');
  }));

  it('does not count a metric batch twice when a generator sends it again', () => withHarness({
    agents: [{ id: 'agent-1', behaviours: [{ duplicateBatches: true }] }],
  }, async (h) => {
    const run = await h.settle((await h.submit(OK_OPTIONS)).id);
    const metrics = (await h.manager.summary(h.orgId, run.id))?.['metrics'] as Record<string, { values: Record<string, number> }>;
    assert.equal(metrics['http_reqs']?.values['count'], 30);
    assert.equal(metrics['iterations']?.values['count'], 3);
  }));

  it('places a run over 3 generators in 2 zones 2:1 whose segments add up to the whole run', () => withHarness({
    agents: [{ id: 'a1', zone: 'zone-a' }, { id: 'a2', zone: 'zone-a' }, { id: 'b1', zone: 'zone-b' }],
  }, async (h) => {
    const run = await h.settle((await h.submit({
      vus: 10, duration: '1s', cloud: { distribution: { a: { loadZone: 'zone-a', percent: 67 }, b: { loadZone: 'zone-b', percent: 33 } } },
    })).id);
    assert.equal(run.status.name, 'Finished');
    const shares = await h.store.listAssignments(run.id);
    assert.deepEqual(shares.map((s) => [s.agentId, s.zone, s.segment]), [['a1', 'zone-a', '0:67/200'], ['a2', 'zone-a', '67/200:67/100'], ['b1', 'zone-b', '67/100:1']]);
    assert.equal(shares.reduce((s, x) => s + x.vus, 0), 10);
    const assigns = h.agents.map((a) => a.assignments.get(run.id));
    assert.deepEqual(new Set(assigns.map((a) => a?.sequence)), new Set(['0,67/200,67/100,1']));
    assert.equal(assigns.filter((a) => a?.lifecycle).length, 1);
    const metrics = (await h.manager.summary(h.orgId, run.id))?.['metrics'] as Record<string, { values: Record<string, number> }>;
    assert.equal(metrics['http_reqs']?.values['count'], 90, 'every generator\'s batches merged');
  }));

  it('ends Aborted by limit with the seed\'s advice when a running test has more than 40 groups', () => withHarness({
    agents: [{ id: 'agent-1', behaviours: [{ groupCount: 41, batches: 100 }] }],
  }, async (h) => {
    const run = await h.settle((await h.submit(OK_OPTIONS)).id);
    assert.deepEqual([run.status.name, run.lastChange.reason], ['Aborted by limit', 'limit_groups']);
    assert.equal(run.lastChange.message, 'too many groups: 41, more than the limit of 40. If your test has too many groups, reduce their number.');
  }));

  it('warns with the seed\'s advice when a generator runs above 90% CPU', () => withHarness({
    agents: [{ id: 'agent-1', behaviours: [{ cpuPercent: 95, batches: 10 }] }],
  }, async (h) => {
    const run = await h.settle((await h.submit(OK_OPTIONS)).id);
    const warnings = (await h.store.listRunWarnings(h.orgId, run.id)) ?? [];
    assert.equal(warnings.length, 1, 'raised once, not at every heartbeat');
    assert.equal(warnings[0]?.code, 'agent_high_cpu');
    assert.match(warnings[0]?.message ?? '', /^load generator agent-1 in zone local is at 95% CPU\. .*add or increase sleep times.*discardResponseBodies/);
    assert.ok(h.events.some((e) => e.type === 'warning' && e.runId === run.id));
  }));

  it('emits progress with VUs and request rate while running', () => withHarness({
    agents: [{ id: 'agent-1', behaviours: [{ batches: 20 }] }],
  }, async (h) => {
    const run = await h.settle((await h.submit(OK_OPTIONS)).id);
    const progress = h.events.filter((e) => e.type === 'progress' && e.runId === run.id);
    assert.ok(progress.length >= 2, `got ${progress.length} progress events`);
    assert.ok(progress.some((e) => e.type === 'progress' && e.vus === 1 && e.rps > 0 && e.vusMax === 2));
  }));
});

describe('run lifecycle across a control-plane restart', () => {
  it('takes over runs that were Running (ending them when their generator is gone) and picks Queued runs up again', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'herd-restart-'));
    const file = join(dir, 'herd.db');
    try {
      const store = await openSqliteStore({ file });
      const org = await store.createOrganization({ name: 'acme' });
      const project = await store.createProject(org.id, { name: 'p' });
      const first = createInProcessTransport();
      const manager = new RunManager({ store, transport: first.control, settings: FAST });
      await manager.start();
      const agent = new FakeAgent(first, 'agent-1' as AgentId, 'local', 1000, [{ batches: 10_000 }]);
      agent.connect();
      const running = await manager.submit(org.id, { projectId: project.id, testName: 't', archive: await archiveWith(OK_OPTIONS) });
      const deadline = Date.now() + 5000;
      while ((await store.getRun(org.id, running.id))?.status.name !== 'Running') {
        assert.ok(Date.now() < deadline, 'the run starts');
        await new Promise((r) => setTimeout(r, 10));
      }
      const queued = await manager.submit(org.id, { projectId: project.id, testName: 't', archive: await archiveWith({ ...OK_OPTIONS, cloud: { distribution: { z: { loadZone: 'later', percent: 100 } } } }) });
      agent.dispose();
      // The process dies without closing anything: a new manager opens the same database.
      await manager.scheduler.stop();
      await store.close();

      const store2 = await openSqliteStore({ file });
      const second = createInProcessTransport();
      const manager2 = new RunManager({ store: store2, transport: second.control, settings: { ...FAST, launchTimeoutMs: 60_000 }, schedulerId: 'replica-2' });
      await manager2.start();
      // The run is taken over, not ended at once; its generator died with the first process and
      // never shows up here, so after the grace period the run ends with that generator named.
      const d0 = Date.now() + 3000;
      while ((await store2.getRunLead(running.id))?.leaderId !== 'replica-2') {
        assert.ok(Date.now() < d0, 'the new process takes the run over once the old lead lapsed');
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.equal((await store2.getRun(org.id, running.id))?.status.name, 'Running', 'the run was not ended by the restart itself');
      const d1 = Date.now() + 5000;
      while (!isFinal((await store2.getRun(org.id, running.id))?.status ?? { code: -2, name: 'Created' })) {
        assert.ok(Date.now() < d1, 'the orphaned run ends');
        await new Promise((r) => setTimeout(r, 10));
      }
      const ended = await store2.getRun(org.id, running.id);
      assert.deepEqual([ended?.status.name, ended?.lastChange.reason], ['Aborted by system', 'agent_lost']);
      assert.match(ended?.lastChange.message ?? '', /load generator agent-1 in zone local lost: nothing received from it for .* since this control plane took the run over/);
      const later = new FakeAgent(second, 'agent-2' as AgentId, 'later', 1000);
      later.connect();
      const d2 = Date.now() + 5000;
      while (!isFinal((await store2.getRun(org.id, queued.id))?.status ?? { code: -2, name: 'Created' })) {
        assert.ok(Date.now() < d2, 'the queued run runs after the restart');
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.equal((await store2.getRun(org.id, queued.id))?.status.name, 'Finished');
      later.dispose();
      await manager2.close();
      await store2.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
