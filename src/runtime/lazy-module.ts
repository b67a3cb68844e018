/**
 * Builds a module's per-VU objects whose functions are made on a VU's first use of each. A
 * module such as k6/http has a dozen functions closing over the VU; made eagerly they were
 * about a kilobyte per VU, while a script uses two or three of them. The members live as
 * accessors on one shared prototype (with no Object.prototype behind it, so the script sandbox
 * still wraps the object as a plain one); the first read makes the function and keeps it as an
 * own property of that VU's object, so later reads are plain property loads. Constants are
 * data on the prototype. A script may still replace a member (`http.get = ...`) on its VU.
 * Own keys list only members used so far; `for...in` and property reads see them all.
 */
export function lazyModule<S extends object>(
  members: Readonly<Record<string, (state: S) => unknown>>,
  constants: Readonly<Record<string, unknown>> = {},
): (state: S) => Record<string, unknown> {
  const states = new WeakMap<object, S>();
  const proto = Object.create(null) as object;
  const own = (o: object, key: string, value: unknown): void => {
    Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
  };
  for (const [key, value] of Object.entries(constants)) own(proto, key, value);
  for (const [key, make] of Object.entries(members)) {
    Object.defineProperty(proto, key, {
      get(this: object) {
        const state = states.get(this);
        if (state === undefined) return undefined;
        const fn = make(state);
        own(this, key, fn);
        return fn;
      },
      set(this: object, value: unknown) {
        own(this, key, value);
      },
      enumerable: true,
      configurable: true,
    });
  }
  // The default import is the module object itself, as with moduleObject().
  Object.defineProperty(proto, 'default', {
    get(this: object) {
      return this;
    },
    enumerable: false,
    configurable: true,
  });
  return (state: S) => {
    const o = Object.create(proto) as Record<string, unknown>;
    states.set(o, state);
    return o;
  };
}
