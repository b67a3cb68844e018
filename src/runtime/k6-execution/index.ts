import { HerdError } from '../../errors/index.js';
import type { RuntimeModule, VuState } from '../vu-state.js';

/** Thrown by `exec.test.abort()`; the engine turns it into the end of the test with exit code 108. */
export class TestAbortError extends HerdError {
  constructor(reason: string) {
    super('test_aborted', reason === '' ? 'test aborted' : `test aborted: ${reason}`);
  }
}

function notInInit(vu: VuState, what: string): void {
  if (vu.phase === 'init') {
    throw new HerdError('init_context_only', `${what} is not available in the init context`, {
      hint: 'read it inside the default function, setup() or teardown()',
    });
  }
}

/** A live view of the VU's sample tags: reads and writes go to `vu.tags`. */
function tagsView(vu: VuState): Record<string, string> {
  return new Proxy({} as Record<string, string>, {
    get: (_t, key) => (typeof key === 'string' ? vu.tags.get(key) : undefined),
    set: (_t, key, value) => {
      if (typeof key !== 'string') return false;
      if (typeof value === 'object' && value !== null) {
        throw new HerdError('script_exception', `exec.vu.tags.${key} must be a string, number or boolean`);
      }
      vu.tags = vu.tags.with(key, String(value));
      return true;
    },
    deleteProperty: (_t, key) => {
      if (typeof key === 'string') vu.tags = vu.tags.without(key);
      return true;
    },
    has: (_t, key) => typeof key === 'string' && vu.tags.has(key),
    ownKeys: () => Object.keys(vu.tags.toObject()),
    getOwnPropertyDescriptor: (_t, key) =>
      typeof key === 'string' && vu.tags.has(key)
        ? { value: vu.tags.get(key), writable: true, enumerable: true, configurable: true }
        : undefined,
  });
}

/** Creates `k6/execution`: vu, scenario, instance and test, read live from the VU's state. */
export function createExecutionModule(): RuntimeModule {
  return {
    specifier: 'k6/execution',
    instantiate(vu: VuState): Record<string, unknown> {
      const test = vu.test;
      const vuInfo = {
        get idInInstance() {
          return vu.idInInstance;
        },
        get idInTest() {
          return vu.idInTest;
        },
        get iterationInInstance() {
          notInInit(vu, 'exec.vu.iterationInInstance');
          return vu.scenario?.iterationInInstance ?? 0;
        },
        get iterationInScenario() {
          notInInit(vu, 'exec.vu.iterationInScenario');
          return vu.iteration;
        },
        tags: tagsView(vu),
        metrics: {
          tags: tagsView(vu),
          metadata: vu.metadata,
        },
      };
      const scenario = {
        get name() {
          notInInit(vu, 'exec.scenario');
          return vu.scenario?.name ?? '';
        },
        get executor() {
          notInInit(vu, 'exec.scenario');
          return vu.scenario?.executor ?? '';
        },
        get startTime() {
          notInInit(vu, 'exec.scenario');
          return vu.scenario?.startTime ?? 0;
        },
        get progress() {
          notInInit(vu, 'exec.scenario');
          return vu.scenario?.progress() ?? 0;
        },
        get iterationInInstance() {
          notInInit(vu, 'exec.scenario');
          return vu.scenario?.iterationInInstance ?? 0;
        },
        get iterationInTest() {
          notInInit(vu, 'exec.scenario');
          return vu.scenario?.iterationInTest ?? 0;
        },
      };
      const instance = {
        get iterationsInterrupted() {
          return test.iterationsInterrupted();
        },
        get iterationsCompleted() {
          return test.iterationsCompleted();
        },
        get vusActive() {
          return test.vusActive();
        },
        get vusInitialized() {
          return test.vusInitialized();
        },
        get currentTestRunDuration() {
          notInInit(vu, 'exec.instance.currentTestRunDuration');
          return Date.now() - test.startTime();
        },
      };
      const testApi = {
        abort(reason?: unknown): never {
          throw new TestAbortError(reason === undefined ? '' : String(reason));
        },
        get options() {
          return test.exportedOptions;
        },
      };
      const api = { vu: vuInfo, scenario, instance, test: testApi };
      return { default: api, ...api };
    },
  };
}
