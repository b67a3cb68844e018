// Control plane ↔ agent messages behind one interface: in-process, and IPC to child processes.
export type { ControlPlaneTransport, AgentTransport } from './transport.js';
export { createInProcessTransport, type InProcessTransport, type InProcessAgentLink, type InProcessTransportOptions } from './in-process.js';
export { ChildProcessAgents, type ChildProcessAgentsOptions } from './child-process.js';
export { ipcAgentTransport } from './ipc-agent.js';
export { logInvalidMessage, type InvalidMessageHandler } from './message-validation.js';
export { connectNatsControl, connectNatsAgent } from './nats.js';
