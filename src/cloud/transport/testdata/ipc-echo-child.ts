// A child process for the transport contract suite: the echo agent over IPC. Test-only; the
// real agent's entry point lives in src/cli.
import type { AgentId } from '../../../protocol/ids.js';
import { ipcAgentTransport } from '../ipc-agent.js';
import { runEchoAgent } from './echo-agent.js';

const agentId = process.argv[2] as AgentId;
const transport = ipcAgentTransport(
  (m) => process.send?.(m),
  (cb) => process.on('message', cb),
  () => process.disconnect(),
);
runEchoAgent(transport, agentId, () => process.exit(3));
