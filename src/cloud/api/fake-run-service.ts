import { HerdError } from '../../errors/index.js';
import { type OrgId, type Run, type RunId, RunStatuses } from '../../protocol/index.js';
import { createdChange, transition } from '../runs/index.js';
import type { MetricPoint, RunEvent, RunService, SubmitRun } from '../runs/index.js';
import type { Store } from '../store/index.js';

/** One call the fake received, by method, with its arguments. */
export type FakeCall =
  | { readonly method: 'submit'; readonly orgId: OrgId; readonly input: SubmitRun }
  | { readonly method: 'abort'; readonly orgId: OrgId; readonly runId: RunId }
  | { readonly method: 'metricSeries'; readonly orgId: OrgId; readonly runId: RunId; readonly metric: string; readonly fromMs: number | undefined; readonly toMs: number | undefined }
  | { readonly method: 'summary'; readonly orgId: OrgId; readonly runId: RunId }
  | { readonly method: 'estimate'; readonly orgId: OrgId; readonly archive: Uint8Array };

/**
 * A RunService for the API's tests: records every call and does the least real work that
 * keeps the store consistent (a submitted run exists, an aborted run is Aborted by user),
 * so tests check what the API does and not the lifecycle, which has its own tests.
 */
export class FakeRunService implements RunService {
  /** Every call, in order. */
  readonly calls: FakeCall[] = [];
  readonly #store: Store;
  readonly #listeners = new Set<(event: RunEvent) => void>();

  constructor(store: Store) {
    this.#store = store;
  }

  /** How many live-event subscribers are attached now. */
  get subscribers(): number {
    return this.#listeners.size;
  }

  /** Sends an event to every subscriber, as the lifecycle would. */
  emit(event: RunEvent): void {
    for (const l of this.#listeners) l(event);
  }

  async submit(orgId: OrgId, input: SubmitRun): Promise<Run> {
    this.calls.push({ method: 'submit', orgId, input });
    const test = input.testId !== undefined
      ? await this.#store.getTest(orgId, input.testId)
      : (await this.#store.findTestByName(orgId, input.projectId, input.testName ?? ''))
        ?? await this.#store.createTest(orgId, { projectId: input.projectId, name: input.testName ?? 'unnamed' });
    if (test === undefined) throw new HerdError('not_found', 'test does not exist or belongs to another organization');
    const archive = await this.#store.putArchive(orgId, test.id, input.archive);
    // The stored row (with orgId, claims …) on purpose: the API must strip it to a Run.
    return this.#store.createRun(orgId, {
      testId: test.id, archiveId: archive.id, options: {}, vus: 1, durationSeconds: 10,
      distribution: { local: { loadZone: 'local', percent: 100 } }, created: createdChange(new Date()),
    });
  }

  async abort(orgId: OrgId, runId: RunId): Promise<Run | undefined> {
    this.calls.push({ method: 'abort', orgId, runId });
    const run = await this.#store.getRun(orgId, runId);
    if (run === undefined) return undefined;
    const change = transition(run.status, RunStatuses.AbortedByUser, 'user_abort', 'aborted via the API', new Date());
    const outcome = await this.#store.transitionRun(runId, run.status, change);
    if (!outcome.ok) throw new HerdError('status_conflict', `run ${runId} is ${outcome.current.name} now`);
    return outcome.run;
  }

  subscribe(listener: (event: RunEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  async metricSeries(orgId: OrgId, runId: RunId, metric: string, fromMs?: number, toMs?: number): Promise<MetricPoint[] | undefined> {
    this.calls.push({ method: 'metricSeries', orgId, runId, metric, fromMs, toMs });
    if ((await this.#store.getRun(orgId, runId)) === undefined) return undefined;
    return [{ t: 1_000, values: { count: 3, rate: 3 } }];
  }

  async summary(orgId: OrgId, runId: RunId): Promise<Record<string, unknown> | undefined> {
    this.calls.push({ method: 'summary', orgId, runId });
    if ((await this.#store.getRun(orgId, runId)) === undefined) return undefined;
    return { metrics: {}, root_group: { name: '', path: '', id: 'd41d8cd98f00b204e9800998ecf8427e', groups: [], checks: [] } };
  }

  async estimate(orgId: OrgId, archive: Uint8Array): Promise<{ vus: number; durationSeconds: number; vuHours: number }> {
    this.calls.push({ method: 'estimate', orgId, archive });
    return { vus: 10, durationSeconds: 360, vuHours: 1 };
  }

  async close(): Promise<void> {
    this.#listeners.clear();
  }
}
