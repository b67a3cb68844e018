import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import type { AgentToControl } from '../../protocol/agent-messages.js';
import type { AgentId } from '../../protocol/ids.js';
import { openSqliteStore } from '../store/index.js';
import { AgentRegistry } from './agent-registry.js';
import { resolveServerSettings } from './settings.js';

const ID = 'a3' as AgentId;
const register = (incarnation?: string): Extract<AgentToControl, { type: 'register' }> => ({
  type: 'register', agentId: ID, zone: 'west', capacity: 100, version: 'test', ...(incarnation === undefined ? {} : { incarnation }),
});
const heartbeat = (incarnation?: string): Extract<AgentToControl, { type: 'heartbeat' }> => ({
  type: 'heartbeat', agentId: ID, cpuPercent: 1, memoryUsedBytes: 1, memoryLimitBytes: 2, runs: [], ...(incarnation === undefined ? {} : { incarnation }),
});

it('tells a register of the same agent process from one of a new process, also when it knows the agent from heartbeats only', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'herd-registry-'));
  const store = await openSqliteStore({ file: join(dir, 'herd.db') });
  try {
    const first = new AgentRegistry(store, resolveServerSettings(), Date.now);
    assert.equal(first.isSameProcess(register('p1')), false, 'unknown agent');
    await first.register(register('p1'));
    assert.equal(first.isSameProcess(register('p1')), true, 'registers again after a cut');
    assert.equal(first.isSameProcess(register('p2')), false, 'a restarted process');
    assert.equal(first.isSameProcess(register()), false, 'an agent that does not say is taken as restarted');

    // A control plane restarted after the agent registered hears its heartbeats first.
    const second = new AgentRegistry(store, resolveServerSettings(), Date.now);
    await second.heartbeat(heartbeat('p1'));
    assert.ok(second.get(ID) !== undefined, 'known from the store and the heartbeat');
    assert.equal(second.isSameProcess(register('p1')), true);
    assert.equal(second.isSameProcess(register('p2')), false);

    // A heartbeat of another incarnation does not overwrite what a register said.
    await second.register(register('p1'));
    await second.heartbeat(heartbeat('p2'));
    assert.equal(second.isSameProcess(register('p1')), true);
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});
