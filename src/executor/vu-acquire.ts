import { HerdError } from '../errors/index.js';
import type { ExecutorEnv, ExecutorVU } from './types.js';

/**
 * Taking planned VUs from the engine's pool. The plan reserved them, so a missing VU is a
 * broken contract between engine and executor, not a user error: it ends the run with an
 * internal error, as k6's "could not get a VU from the buffer" does.
 */

/** The error for a VU the pool should have had. */
export function noVUError(scenario: string): HerdError {
  return new HerdError('internal', `scenario "${scenario}" could not get a VU from the pool although its plan reserved one`);
}

/** Takes `n` VUs, marking them active; on shortage gives back those taken and throws. */
export function acquireVUs(env: ExecutorEnv, n: number, scenario: string): ExecutorVU[] {
  const vus: ExecutorVU[] = [];
  for (let i = 0; i < n; i++) {
    const vu = env.acquireVU();
    if (vu === null) {
      for (const taken of vus) env.releaseVU(taken);
      throw noVUError(scenario);
    }
    vus.push(vu);
  }
  env.addActiveVUs(n);
  return vus;
}

/** Gives one VU back and marks it inactive. */
export function releaseVU(env: ExecutorEnv, vu: ExecutorVU): void {
  env.releaseVU(vu);
  env.addActiveVUs(-1);
}
