import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { AgentId } from '../../protocol/ids.js';
import { ChildProcessAgents } from './child-process.js';
import { transportContract } from './transport.case.test.js';

const CHILD = fileURLToPath(new URL('./testdata/ipc-echo-child.js', import.meta.url));

transportContract('IPC to child processes', async () => {
  const invalid: unknown[] = [];
  const control = new ChildProcessAgents({ onInvalid: (_why, raw) => invalid.push(raw) });
  const children = new Map<AgentId, ChildProcess>();
  return {
    control,
    invalid,
    async startAgent(agentId) {
      const child = fork(CHILD, [agentId], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      children.set(agentId, child);
      control.attach(child, agentId);
      await new Promise<void>((resolve, reject) => {
        child.once('spawn', resolve);
        child.once('error', reject);
      });
    },
    dropAgent(agentId) {
      children.get(agentId)?.kill('SIGKILL');
    },
    async dispose() {
      await control.close();
      await Promise.all([...children.values()].map((c) => new Promise<void>((resolve) => {
        if (c.exitCode !== null || c.signalCode !== null) return resolve();
        c.once('exit', () => resolve());
        c.kill('SIGKILL');
      })));
    },
  };
});
