// End-to-end: runs that end because of their load generators, not their script — a load zone
// with no generator (Aborted by system after the launch timeout), the embedded agent process
// killed (Aborted by system) or stopped (Timed out) mid-run — and the VU-hour usage each kind of
// end leaves (issue 4, items 5 and 9), through a real `herd server` and its embedded agent.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { startTarget, type RunningTarget } from '../src/target/index.js';
import { codesOf, isAlive, packScript, startHerdServer, STATUS, type HerdServer } from './helpers/herd-server.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Child pids of `pid` (Linux /proc), oldest first. */
function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid ...: comm may hold spaces, so read after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out.sort((a, b) => a - b);
}

/** One VU per share sleeping in a loop for `duration`. */
const idle = (duration: string, extra = '') => `import { sleep } from 'k6';
export const options = { vus: 2, duration: '${duration}'${extra} };
export default function () { sleep(0.1); }
`;

interface Usage {
  month: string;
  vuHours: number;
  runs: number;
  projects: Array<{ projectId: string; vuHours: number; runs: number }>;
}

describe('runs ended by their load generators', () => {
  let server: HerdServer;
  let target: RunningTarget;
  let usageOrg: { orgId: string; token: string; projectId: string };

  before(async () => {
    // The agent grace (1s) is shorter than the time the server takes to restart its embedded
    // agent (1s, then the process starts), so a killed agent is judged before a new one registers.
    [server, target] = await Promise.all([
      startHerdServer({ settings: { '--launch-timeout': '2s', '--agent-grace': '1s', '--run-timeout': '3s', '--heartbeat': '500ms' } }),
      startTarget({ port: 0 }),
    ]);
    usageOrg = await server.createOrg('usage');
  });
  after(async () => {
    // Never leave the agent stopped, whatever failed.
    if (server !== undefined) for (const pid of childPids(server.child.pid!)) process.kill(pid, 'SIGCONT');
    await Promise.allSettled([server?.stop(), target?.close()]);
  });

  /** The pid of the embedded agent now: the printed one, or the server's newest `herd agent` child after a restart. */
  const currentAgentPid = async (): Promise<number> => {
    if (isAlive(server.agentPid)) return server.agentPid;
    const pid = childPids(server.child.pid!).at(-1);
    assert.ok(pid !== undefined, 'the server has an agent child process');
    return pid;
  };

  const usage = async (token: string): Promise<Usage> => {
    const r = await server.api<Usage>('GET', '/api/v1/usage', { token });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body;
  };

  it('a run asking for a load zone with no generator ends Aborted by system after the launch timeout, naming the zone', async () => {
    const r = await server.submit(await packScript(`export const options = {
  vus: 1, iterations: 1,
  cloud: { distribution: { x: { loadZone: 'nowhere', percent: 100 } } },
};
export default function () {}
`));
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.body.status.code, STATUS.Queued);
    const run = await server.waitEnded(r.body.id, 15_000);
    assert.equal(run.status.code, STATUS.AbortedBySystem, JSON.stringify(run.lastChange));
    assert.equal(run.status.name, 'Aborted by system');
    assert.equal(run.lastChange.reason, 'launch_timeout');
    assert.match(run.lastChange.message, /"nowhere"/);
    assert.match(run.lastChange.message, /launch timeout of 2s/);
    const history = await server.history(run.id);
    assert.deepEqual(codesOf(history), [STATUS.Created, STATUS.Validated, STATUS.Queued, STATUS.AbortedBySystem]);
    const waited = Date.parse(run.lastChange.at) - Date.parse(history[2]!.at);
    assert.ok(waited >= 1900, `waited ${waited} ms in Queued, not the launch timeout`);
    assert.equal(run.startedAt, null);
  });

  it('a finished run shows VU-hours > 0 for the month in GET /api/v1/usage', async () => {
    const before = await usage(usageOrg.token);
    assert.equal(before.runs, 0);
    assert.equal(before.vuHours, 0);
    const r = await server.submit(await packScript(idle('2s')), { token: usageOrg.token, projectId: usageOrg.projectId });
    const run = await server.waitEnded(r.body.id, 20_000, usageOrg.token);
    assert.equal(run.status.code, STATUS.Finished, JSON.stringify(run.lastChange));
    const u = await usage(usageOrg.token);
    assert.match(u.month, /^\d{4}-\d{2}$/);
    assert.equal(u.runs, 1);
    assert.ok(u.vuHours > 0, `vuHours ${u.vuHours}`);
    // 2 VUs for about 2s: about 0.0011 VU-hours, certainly under 2 VUs × 10s.
    assert.ok(u.vuHours < (2 * 10) / 3600, `vuHours ${u.vuHours}`);
    assert.deepEqual(u.projects.map((p) => [p.projectId, p.runs]), [[usageOrg.projectId, 1]]);
  });

  it('an agent stopped (SIGSTOP) for longer than the run timeout makes the run Timed out (4)', async () => {
    const r = await server.submit(await packScript(idle('30s')));
    await server.waitRun(r.body.id, (x) => x.status.code === STATUS.Running);
    await sleep(500);
    process.kill(server.agentPid, 'SIGSTOP');
    let run;
    try {
      run = await server.waitEnded(r.body.id, 15_000);
    } finally {
      process.kill(server.agentPid, 'SIGCONT');
    }
    assert.equal(run.status.code, STATUS.TimedOut, JSON.stringify(run.lastChange));
    assert.equal(run.status.name, 'Timed out');
    assert.equal(run.lastChange.reason, 'run_timeout');
    assert.match(run.lastChange.message, /run timeout 3s/);
    assert.deepEqual(codesOf(await server.history(run.id)).slice(-2), [STATUS.Running, STATUS.TimedOut]);
    // The generator is alive again and heartbeats.
    await server.waitAgentHealthy(15_000, Date.now());
  });

  it('killing the agent process (SIGKILL) mid-run ends the run Aborted by system, naming the lost generator; it adds no usage', async () => {
    const before = await usage(usageOrg.token);
    const r = await server.submit(await packScript(idle('30s')), { token: usageOrg.token, projectId: usageOrg.projectId });
    await server.waitRun(r.body.id, (x) => x.status.code === STATUS.Running, 20_000, usageOrg.token);
    await sleep(1000);
    assert.ok(isAlive(server.agentPid), 'the embedded agent runs');
    process.kill(server.agentPid, 'SIGKILL');
    const run = await server.waitEnded(r.body.id, 15_000, usageOrg.token);
    assert.equal(run.status.code, STATUS.AbortedBySystem, JSON.stringify(run.lastChange));
    assert.equal(run.lastChange.reason, 'agent_lost');
    assert.match(run.lastChange.message, /load generator local-1/);
    assert.match(run.lastChange.message, /lost/);
    assert.ok(run.startedAt !== null, 'it had started');
    assert.deepEqual(codesOf(await server.history(run.id, usageOrg.token)).slice(-2), [STATUS.Running, STATUS.AbortedBySystem]);
    const u = await usage(usageOrg.token);
    assert.equal(u.vuHours, before.vuHours, 'a run aborted by system is not counted');
    assert.equal(u.runs, before.runs);
    // The server starts a new embedded agent.
    await server.waitAgentRestarted();
  });

  it('right after the agent process is killed, GET /api/v1/agents shows it unhealthy', {
  }, async () => {
    const pid = await currentAgentPid();
    process.kill(pid, 'SIGKILL');
    await sleep(300);
    try {
      const r = await server.api<{ agents: Array<{ id: string; healthy: boolean }> }>('GET', '/api/v1/agents');
      assert.deepEqual(r.body.agents.map((a) => [a.id, a.healthy]), [['local-1', false]]);
    } finally {
      await server.waitAgentRestarted();
    }
  });

  it('a run aborted by the user after it started counts toward usage', async () => {
    const before = await usage(usageOrg.token);
    const r = await server.submit(await packScript(idle('30s')), { token: usageOrg.token, projectId: usageOrg.projectId });
    await server.waitRun(r.body.id, (x) => x.status.code === STATUS.Running, 20_000, usageOrg.token);
    await sleep(1500);
    const a = await server.api('POST', `/api/v1/runs/${r.body.id}/abort`, { token: usageOrg.token });
    assert.equal(a.status, 200, JSON.stringify(a.body));
    const run = await server.waitEnded(r.body.id, 10_000, usageOrg.token);
    assert.equal(run.status.code, STATUS.AbortedByUser);
    const u = await usage(usageOrg.token);
    assert.equal(u.runs, before.runs + 1);
    // 2 VUs for at least 1.5s.
    assert.ok(u.vuHours - before.vuHours >= (2 * 1.4) / 3600, `added ${u.vuHours - before.vuHours} VU-hours`);
  });
});

describe('an embedded agent that is restarted within the grace period', () => {
  let server: HerdServer;

  before(async () => {
    // A grace period (4s) longer than the embedded agent's restart (1s + start-up), and a run
    // timeout (3s) shorter than the grace.
    server = await startHerdServer({ settings: { '--launch-timeout': '2s', '--agent-grace': '4s', '--run-timeout': '3s', '--heartbeat': '500ms' } });
  });
  after(async () => {
    await server?.stop();
  });

  it('a killed agent still ends its run Aborted by system (load generator lost), not Timed out', {
  }, async () => {
    const r = await server.submit(await packScript(idle('30s')));
    await server.waitRun(r.body.id, (x) => x.status.code === STATUS.Running);
    await sleep(1000);
    process.kill(server.agentPid, 'SIGKILL');
    // The grace period is 4s: the run must have ended well within 10s.
    const run = await server.waitEnded(r.body.id, 10_000);
    assert.equal(run.status.code, STATUS.AbortedBySystem, JSON.stringify(run.lastChange));
    assert.match(run.lastChange.reason, /^agent_(lost|crashed)$/);
  });
});
