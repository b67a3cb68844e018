export { Agent, type AgentOptions, type ResourceSample } from './agent.js';
export { Assignment } from './assignment.js';
