// The queue, load-zone placement, execution-segment assignment and generator health.
export { serverSettingsSchema, resolveServerSettings, type ServerSettings, type ServerSettingsInput } from './settings.js';
export { placeRun, type Placement, type PlacementCandidate, type PlacementShare } from './placement.js';
export { AgentRegistry, type AgentState } from './agent-registry.js';
export { Scheduler, type SchedulerHost, type SchedulerOptions } from './scheduler.js';
