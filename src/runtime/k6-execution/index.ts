import { HerdError } from '../../errors/index.js';
import { moduleObject, type RuntimeModule, type VuState } from '../vu-state.js';

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

/*
 * Every VU gets its own k6/execution objects, since their values are the VU's. They are
 * proxies over a one-slot target holding the VU's state, and every VU shares the handlers:
 * objects with getters made per VU cost about 5 KB each VU (two dozen closures, accessor
 * pairs and dictionary-mode property stores), more than the rest of a sleeping VU's HTTP state.
 * The traps never show the slot: it is a module-private symbol.
 */
const STATE = Symbol('k6/execution vu');
const TAGS = Symbol('k6/execution tags');
const METRICS = Symbol('k6/execution metrics');
const OPTIONS = Symbol('k6/execution options');

interface Slot {
  readonly [STATE]: VuState;
  [TAGS]?: Record<string, string>;
  [METRICS]?: { readonly tags: Record<string, string>; readonly metadata: Record<string, string> };
  [OPTIONS]?: unknown;
}

type Reader = (vu: VuState, slot: Slot) => unknown;

/** A handler for a read-only object whose properties are `readers`, computed at each read. */
function readOnly(readers: Readonly<Record<string, Reader>>): ProxyHandler<Slot> {
  const byKey = new Map(Object.entries(readers));
  const keys = [...byKey.keys()];
  return {
    get: (t, k) => {
      const read = typeof k === 'string' ? byKey.get(k) : undefined;
      if (read !== undefined) return read(t[STATE], t);
      // Inherited names (toString, hasOwnProperty) still work; the symbol slots stay hidden.
      return typeof k === 'symbol' ? undefined : Reflect.get(t, k);
    },
    set: () => false,
    defineProperty: () => false,
    deleteProperty: () => false,
    has: (_t, k) => typeof k === 'string' && (byKey.has(k) || k in Object.prototype),
    ownKeys: () => [...keys],
    getOwnPropertyDescriptor: (t, k) => {
      const read = typeof k === 'string' ? byKey.get(k) : undefined;
      return read === undefined ? undefined : { value: read(t[STATE], t), writable: false, enumerable: true, configurable: true };
    },
  };
}

/** `exec.vu.tags` and `exec.vu.metrics.tags`: a live view of the VU's sample tags, writable. */
const tagsHandler: ProxyHandler<Slot> = {
  get: (t, key) => (typeof key === 'string' ? t[STATE].tags.get(key) : undefined),
  set: (t, key, value) => {
    if (typeof key !== 'string') return false;
    if (typeof value === 'object' && value !== null) {
      throw new HerdError('script_exception', `exec.vu.tags.${key} must be a string, number or boolean`);
    }
    const vu = t[STATE];
    vu.tags = vu.tags.with(key, String(value));
    return true;
  },
  deleteProperty: (t, key) => {
    const vu = t[STATE];
    if (typeof key === 'string') vu.tags = vu.tags.without(key);
    return true;
  },
  has: (t, key) => typeof key === 'string' && t[STATE].tags.has(key),
  ownKeys: (t) => Object.keys(t[STATE].tags.toObject()),
  getOwnPropertyDescriptor: (t, key) => {
    const tags = t[STATE].tags;
    return typeof key === 'string' && tags.has(key) ? { value: tags.get(key), writable: true, enumerable: true, configurable: true } : undefined;
  },
};

function tagsOf(vu: VuState, slot: Slot): Record<string, string> {
  return (slot[TAGS] ??= new Proxy<Slot>({ [STATE]: vu }, tagsHandler) as unknown as Record<string, string>);
}

const vuHandler = readOnly({
  idInInstance: (vu) => vu.idInInstance,
  idInTest: (vu) => vu.idInTest,
  iterationInInstance: (vu) => {
    notInInit(vu, 'exec.vu.iterationInInstance');
    return vu.scenario?.iterationInInstance ?? 0;
  },
  iterationInScenario: (vu) => {
    notInInit(vu, 'exec.vu.iterationInScenario');
    return vu.iteration;
  },
  tags: tagsOf,
  metrics: (vu, slot) => (slot[METRICS] ??= { tags: tagsOf(vu, slot), metadata: vu.metadata }),
});

function scenarioReader(read: (s: NonNullable<VuState['scenario']>) => unknown, none: unknown): Reader {
  return (vu) => {
    notInInit(vu, 'exec.scenario');
    return vu.scenario === null ? none : read(vu.scenario);
  };
}

const scenarioHandler = readOnly({
  name: scenarioReader((s) => s.name, ''),
  executor: scenarioReader((s) => s.executor, ''),
  startTime: scenarioReader((s) => s.startTime, 0),
  progress: scenarioReader((s) => s.progress(), 0),
  iterationInInstance: scenarioReader((s) => s.iterationInInstance, 0),
  iterationInTest: scenarioReader((s) => s.iterationInTest, 0),
});

const instanceHandler = readOnly({
  iterationsInterrupted: (vu) => vu.test.iterationsInterrupted(),
  iterationsCompleted: (vu) => vu.test.iterationsCompleted(),
  vusActive: (vu) => vu.test.vusActive(),
  vusInitialized: (vu) => vu.test.vusInitialized(),
  currentTestRunDuration: (vu) => {
    notInInit(vu, 'exec.instance.currentTestRunDuration');
    return Date.now() - vu.test.startTime();
  },
});

function abort(reason?: unknown): never {
  throw new TestAbortError(reason === undefined ? '' : String(reason));
}

const testHandler = readOnly({
  abort: () => abort,
  // The VU's own copy, as in k6 where each VU has its runtime: the test's options object is
  // frozen, and a frozen object cannot be shown through the sandbox's membrane property by
  // property (Object.keys and JSON.stringify of it threw a proxy invariant TypeError).
  options: (vu, slot) => (slot[OPTIONS] ??= vu.test.scriptCopy(vu.test.exportedOptions)),
});

/** Creates `k6/execution`: vu, scenario, instance and test, read live from the VU's state. */
export function createExecutionModule(): RuntimeModule {
  return {
    specifier: 'k6/execution',
    instantiate(vu: VuState): Record<string, unknown> {
      return moduleObject({
        vu: new Proxy<Slot>({ [STATE]: vu }, vuHandler),
        scenario: new Proxy<Slot>({ [STATE]: vu }, scenarioHandler),
        instance: new Proxy<Slot>({ [STATE]: vu }, instanceHandler),
        test: new Proxy<Slot>({ [STATE]: vu }, testHandler),
      });
    },
  };
}
