import { moduleObject, type RuntimeModule, type VuState } from '../vu-state.js';
import { constructSharedArray } from './shared-array.js';

export {
  constructSharedArray,
  restoreSharedArray,
  sharedArrayEntryFromJson,
  sharedArrayKey,
  type SharedArrayEntry,
} from './shared-array.js';

/** The SharedArray constructor a script sees: `new SharedArray(name, fn)`. */
export type SharedArrayConstructor = new (name: string, fn: () => unknown[]) => readonly unknown[];

/** What `import { SharedArray } from 'k6/data'` gives a script. */
export interface DataApi {
  readonly SharedArray: SharedArrayConstructor;
}

function sharedArrayConstructor(vu: VuState): SharedArrayConstructor {
  // A function rather than a class: a constructor that returns an object makes `new` yield
  // that object, here the shared read-only view.
  function SharedArray(this: unknown, name: unknown, fn: unknown): readonly unknown[] {
    if (new.target === undefined) throw new TypeError("Class constructor SharedArray cannot be invoked without 'new'");
    return constructSharedArray(vu, name, fn);
  }
  return SharedArray as unknown as SharedArrayConstructor;
}

/** Creates the `k6/data` module. */
export function createDataModule(): RuntimeModule {
  return {
    specifier: 'k6/data',
    instantiate(vu: VuState): Record<string, unknown> {
      const api: DataApi = { SharedArray: sharedArrayConstructor(vu) };
      return moduleObject(api);
    },
  };
}
