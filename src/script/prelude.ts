// Source of the helpers that live inside the sandbox realm (compiled once per script context).
// They are written as a string because they must be created by the context's own Function,
// Proxy and Promise: a helper made in Node's realm would hand scripts a way back to Node's
// `Function` (and so to `process`) through `.constructor.constructor`.

/**
 * Evaluates (in the sandbox) to the runtime helpers object `__herd_rt`:
 * - `seq`: array methods that run possibly-async callbacks one after another, in order,
 *   awaiting each, with the result the array method would give;
 * - `expose(v)`: wraps a Node-realm function into a sandbox function and a plain Node-realm
 *   object into a sandbox Proxy, so scripts cannot reach Node's `Function` through them, and
 *   gives a Node-realm promise this realm's `constructor` (after `adoptPromises`), so that
 *   `await` takes it as a native promise;
 * - `typeOf(g, name)`: `typeof name` for a free global read through the per-VU scope object;
 * - `toRealm(json)`: parses JSON text into sandbox objects;
 * - `seedRandom(seed)`: replaces the context's Math.random with a seeded generator.
 */
export const PRELUDE_SOURCE = String.raw`(function () {
  'use strict';
  // The built-ins the membrane uses on every call, read once: inside a vm context every
  // global name lookup goes through the contextified global's C++ interceptor, which costs
  // more than the membrane's own work (several lookups per http.get or __ENV read).
  const ObjectCtor = Object;
  const ObjectProto = Object.prototype;
  const getProto = Object.getPrototypeOf;
  const reflectGet = Reflect.get;
  const reflectApply = Reflect.apply;
  const reflectConstruct = Reflect.construct;
  const reflectGetOwnPropertyDescriptor = Reflect.getOwnPropertyDescriptor;
  const isArray = Array.isArray;
  const PromiseCtor = Promise;
  let hostPromiseProto = null;
  // Called once by the loader with the host realm's Promise.prototype.
  function adoptPromises(proto) { hostPromiseProto = proto; }
  const wrappers = new WeakMap();
  const originals = new WeakMap();
  const isObj = (v) => v !== null && (typeof v === 'object' || typeof v === 'function');
  const unwrap = (v) => (isObj(v) && originals.has(v) ? originals.get(v) : v);
  const isPlain = (v) => {
    const p = getProto(v);
    return p === null || getProto(p) === null;
  };
  const defineProperty = Object.defineProperty;
  // Module views (see toESM) that keep the functions read through them as their own properties.
  const moduleViews = new WeakSet();
  const handler = {
    get(t, k, receiver) {
      const v = expose(reflectGet(t, k));
      // A built-in module's function read through the script's view of the module (\`http.get\`)
      // becomes the view's own property: later reads are plain loads, not a trap and a lookup.
      // Only a data property of the module is kept, whose value cannot change behind the view.
      if (typeof v === 'function' && moduleViews.has(receiver)) {
        const d = reflectGetOwnPropertyDescriptor(t, k);
        if (d !== undefined && 'value' in d && expose(d.value) === v) {
          defineProperty(receiver, k, { value: v, writable: true, enumerable: true, configurable: true });
        }
      }
      return v;
    },
    getOwnPropertyDescriptor(t, k) {
      const d = reflectGetOwnPropertyDescriptor(t, k);
      if (d === undefined) return undefined;
      if ('value' in d) d.value = expose(d.value);
      if (d.get) d.get = expose(d.get);
      if (d.set) d.set = expose(d.set);
      return d;
    },
    getPrototypeOf(t) { return getProto(t) === null ? null : ObjectProto; },
  };
  function expose(v) {
    if (!isObj(v) || v instanceof ObjectCtor) return v;
    if (hostPromiseProto !== null && getProto(v) === hostPromiseProto) {
      // A promise from a runtime module (http.get, sleep, …): awaiting a promise of another
      // realm takes a thenable job and two more microtask turns; one whose constructor is
      // this realm's Promise is awaited directly.
      v.constructor = PromiseCtor;
      return v;
    }
    let w = wrappers.get(v);
    if (w !== undefined) return w;
    if (typeof v === 'function') {
      const fn = v;
      w = function (...args) {
        for (let i = 0; i < args.length; i++) args[i] = unwrap(args[i]);
        if (new.target !== undefined) return expose(reflectConstruct(fn, args));
        return expose(reflectApply(fn, unwrap(this), args));
      };
      // No defineProperty(w, 'name') here: it turns every wrapper's properties into a dictionary
      // (hundreds of bytes each, a dozen wrappers per VU).
    } else if (isPlain(v)) {
      w = new Proxy(v, handler);
    } else {
      return v;
    }
    wrappers.set(v, w);
    originals.set(w, v);
    return w;
  }

  const arrayLike = (a) => a !== null && a !== undefined && typeof a.length === 'number';
  async function entries(a) {
    if (arrayLike(a)) return null;
    // Map, Set and other collections with forEach: take a snapshot, then run callbacks in order.
    const out = [];
    if (a !== null && a !== undefined && typeof a.forEach === 'function') a.forEach((v, k) => { out.push([v, k]); });
    return out;
  }
  const has = (a, i) => !isArray(a) || i in a;
  const impl = {
    async forEach(a, cb, thisArg) {
      const es = await entries(a);
      if (es !== null) { for (const [v, k] of es) await cb.call(thisArg, v, k, a); return undefined; }
      for (let i = 0, n = a.length; i < n; i++) if (has(a, i)) await cb.call(thisArg, a[i], i, a);
      return undefined;
    },
    async map(a, cb, thisArg) {
      const n = a.length;
      const out = new Array(n);
      for (let i = 0; i < n; i++) if (has(a, i)) out[i] = await cb.call(thisArg, a[i], i, a);
      return out;
    },
    async filter(a, cb, thisArg) {
      const out = [];
      for (let i = 0, n = a.length; i < n; i++) if (has(a, i) && (await cb.call(thisArg, a[i], i, a))) out.push(a[i]);
      return out;
    },
    async flatMap(a, cb, thisArg) {
      const out = [];
      for (let i = 0, n = a.length; i < n; i++) {
        if (!has(a, i)) continue;
        const r = await cb.call(thisArg, a[i], i, a);
        if (isArray(r)) out.push(...r); else out.push(r);
      }
      return out;
    },
    async some(a, cb, thisArg) {
      for (let i = 0, n = a.length; i < n; i++) if (has(a, i) && (await cb.call(thisArg, a[i], i, a))) return true;
      return false;
    },
    async every(a, cb, thisArg) {
      for (let i = 0, n = a.length; i < n; i++) if (has(a, i) && !(await cb.call(thisArg, a[i], i, a))) return false;
      return true;
    },
    async find(a, cb, thisArg) {
      for (let i = 0, n = a.length; i < n; i++) if (await cb.call(thisArg, a[i], i, a)) return a[i];
      return undefined;
    },
    async findIndex(a, cb, thisArg) {
      for (let i = 0, n = a.length; i < n; i++) if (await cb.call(thisArg, a[i], i, a)) return i;
      return -1;
    },
    async findLast(a, cb, thisArg) {
      for (let i = a.length - 1; i >= 0; i--) if (await cb.call(thisArg, a[i], i, a)) return a[i];
      return undefined;
    },
    async findLastIndex(a, cb, thisArg) {
      for (let i = a.length - 1; i >= 0; i--) if (await cb.call(thisArg, a[i], i, a)) return i;
      return -1;
    },
    async reduce(a, cb, ...init) {
      const n = a.length;
      let i = 0;
      let acc;
      if (init.length > 0) acc = init[0];
      else {
        while (i < n && !has(a, i)) i++;
        if (i >= n) throw new TypeError('Reduce of empty array with no initial value');
        acc = a[i++];
      }
      for (; i < n; i++) if (has(a, i)) acc = await cb(acc, a[i], i, a);
      return acc;
    },
    async reduceRight(a, cb, ...init) {
      let i = a.length - 1;
      let acc;
      if (init.length > 0) acc = init[0];
      else {
        while (i >= 0 && !has(a, i)) i--;
        if (i < 0) throw new TypeError('Reduce of empty array with no initial value');
        acc = a[i--];
      }
      for (; i >= 0; i--) if (has(a, i)) acc = await cb(acc, a[i], i, a);
      return acc;
    },
  };
  // Receivers that are not array-like (a user's own collection with a map method, say) keep
  // their own method; forEach also accepts Map and Set (snapshot, then in order).
  const seq = {};
  for (const name of Object.keys(impl)) {
    const run = impl[name];
    seq[name] = function (a, ...rest) {
      if (arrayLike(a) || (name === 'forEach' && a !== null && a !== undefined && typeof a.forEach === 'function')) return run(a, ...rest);
      return a[name](...rest);
    };
  }
  function typeOf(g, name) {
    try { return typeof g[name]; } catch { return 'undefined'; }
  }
  function toRealm(json) { return JSON.parse(json); }
  // mulberry32: small, fast, good enough for test data; replaces Math.random for the context.
  function seedRandom(seed) {
    let a = (Number(seed) >>> 0) || 0;
    Math.random = function random() {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }
  // The per-VU scope of free globals: one shared prototype of accessors, one small object per VU
  // (accessors defined on each VU's own object would put it in dictionary mode, kilobytes per VU).
  function makeScope(defined, undefinedNames) {
    const H = Symbol('host globals');
    function Scope(h) { this[H] = h; }
    const proto = Object.create(null);
    for (const name of defined) {
      Object.defineProperty(proto, name, {
        get() { return expose(this[H][name]); },
        set(v) { this[H][name] = v; },
        configurable: true,
      });
    }
    for (const name of undefinedNames) {
      Object.defineProperty(proto, name, {
        get() { throw new ReferenceError(name + ' is not defined'); },
        // Assigning an undeclared name creates a per-VU global, as it would in sloppy code.
        set(v) { Object.defineProperty(this, name, { value: v, writable: true, configurable: true }); },
        configurable: true,
      });
    }
    Scope.prototype = proto;
    return (h) => new Scope(h);
  }
  // herd's built-in modules as scripts import them: {default, ...named} already has the shape of
  // an ES module namespace, so esbuild's interop helpers can hand them over as they are instead
  // of copying every export into a fresh object of getters for every VU.
  const builtinViews = new WeakSet();
  function makeRequire(load) {
    return function require(specifier) {
      const m = expose(load(String(specifier)));
      if (isObj(m)) builtinViews.add(m);
      return m;
    };
  }
  function copyProps(to, from) {
    for (const key of Object.getOwnPropertyNames(from)) {
      if (!Object.prototype.hasOwnProperty.call(to, key) && key !== 'default') {
        const d = Object.getOwnPropertyDescriptor(from, key);
        Object.defineProperty(to, key, { get: () => from[key], enumerable: !d || d.enumerable });
      }
    }
    return to;
  }
  // esbuild's __toESM, except for built-in modules (see above).
  const esmViews = new WeakMap();
  function toESM(mod, isNodeMode) {
    if (builtinViews.has(mod)) {
      // Every named export is reached through the prototype: one small object per module per VU.
      let view = esmViews.get(mod);
      if (view === undefined) {
        // The default import is the view too, so \`http.get\` and \`import { get }\` both keep
        // what they read on it (see handler.get).
        view = Object.create(mod);
        defineProperty(view, 'default', { value: view, enumerable: true });
        moduleViews.add(view);
        esmViews.set(mod, view);
      }
      return view;
    }
    const target = mod != null ? Object.create(Object.getPrototypeOf(mod)) : {};
    if (isNodeMode || !mod || !mod.__esModule) Object.defineProperty(target, 'default', { value: mod, enumerable: true });
    return mod != null && (typeof mod === 'object' || typeof mod === 'function') ? copyProps(target, mod) : target;
  }
  // esbuild's __toCommonJS: the entry's exports object already has live getters; no copy needed.
  function toCommonJS(mod) { return mod; }
  return Object.freeze({ seq: Object.freeze(seq), expose, adoptPromises, typeOf, toRealm, makeRequire, makeScope, toESM, toCommonJS, seedRandom });
})()`;
