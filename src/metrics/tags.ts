/**
 * Interned, immutable tag sets.
 *
 * A sample's tags identify its time series. Building a string key per sample would cost an
 * allocation on the hot path, so tag sets are interned: `base.with('status', '200')` returns
 * the one TagSet object for that exact set of pairs, found through a map lookup on `base`.
 * Two equal sets are always the same object, so a TagSet can key a Map directly.
 * Keys are kept sorted, so the same pairs added in any order give the same object.
 */
export class TagSet {
  /** The empty tag set, the root of every other. */
  static readonly EMPTY: TagSet = new TagSet(null, '', '');

  /** Sorted (key, value) pairs, flattened: [k0, v0, k1, v1, ...]. */
  readonly pairs: readonly string[];
  private readonly children = new Map<string, Map<string, TagSet>>();
  private cachedObject: Readonly<Record<string, string>> | undefined;

  private constructor(parent: TagSet | null, key: string, value: string) {
    if (parent === null) {
      this.pairs = [];
      return;
    }
    const out: string[] = [];
    const p = parent.pairs;
    let inserted = false;
    for (let i = 0; i < p.length; i += 2) {
      const k = p[i] as string;
      if (!inserted && key < k) {
        out.push(key, value);
        inserted = true;
      }
      out.push(k, p[i + 1] as string);
    }
    if (!inserted) out.push(key, value);
    this.pairs = out;
  }

  /** The tag set with `key` set to `value` (replacing any earlier value of `key`). */
  with(key: string, value: string): TagSet {
    if (this.get(key) === value) return this;
    const base = this.has(key) ? this.without(key) : this;
    return base.extend(key, value);
  }

  /** The tag set without `key`. */
  without(key: string): TagSet {
    if (!this.has(key)) return this;
    let out = TagSet.EMPTY;
    const p = this.pairs;
    for (let i = 0; i < p.length; i += 2) {
      if (p[i] !== key) out = out.extend(p[i] as string, p[i + 1] as string);
    }
    return out;
  }

  /** The union of both sets; `other` wins on shared keys. */
  merge(other: TagSet): TagSet {
    let out: TagSet = this;
    const p = other.pairs;
    for (let i = 0; i < p.length; i += 2) out = out.with(p[i] as string, p[i + 1] as string);
    return out;
  }

  /** The value of `key`, or undefined. */
  get(key: string): string | undefined {
    const p = this.pairs;
    for (let i = 0; i < p.length; i += 2) if (p[i] === key) return p[i + 1];
    return undefined;
  }

  /** Whether `key` is set. */
  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  /** True when every pair of `selector` is in this set. */
  contains(selector: TagSet): boolean {
    const s = selector.pairs;
    for (let i = 0; i < s.length; i += 2) if (this.get(s[i] as string) !== s[i + 1]) return false;
    return true;
  }

  /** Number of pairs. */
  get size(): number {
    return this.pairs.length / 2;
  }

  /** A frozen plain object of the pairs (cached). */
  toObject(): Readonly<Record<string, string>> {
    if (this.cachedObject === undefined) {
      const o: Record<string, string> = {};
      const p = this.pairs;
      for (let i = 0; i < p.length; i += 2) o[p[i] as string] = p[i + 1] as string;
      this.cachedObject = Object.freeze(o);
    }
    return this.cachedObject;
  }

  /** The interned set holding exactly the pairs of `obj`. */
  static from(obj: Readonly<Record<string, string>>): TagSet {
    let t = TagSet.EMPTY;
    for (const k of Object.keys(obj)) t = t.with(k, obj[k] as string);
    return t;
  }

  /** `{k:v,...}` text, stable for a given set (used in logs and sub-metric names). */
  toString(): string {
    const p = this.pairs;
    const parts: string[] = [];
    for (let i = 0; i < p.length; i += 2) parts.push(`${p[i]}:${p[i + 1]}`);
    return `{${parts.join(',')}}`;
  }

  private extend(key: string, value: string): TagSet {
    let byValue = this.children.get(key);
    if (byValue === undefined) {
      byValue = new Map();
      this.children.set(key, byValue);
    }
    let child = byValue.get(value);
    if (child === undefined) {
      // Route through the sorted position: interning must not depend on insertion order.
      child = this.insertSorted(key, value);
      byValue.set(value, child);
    }
    return child;
  }

  private insertSorted(key: string, value: string): TagSet {
    const p = this.pairs;
    const lastKey = p.length === 0 ? undefined : (p[p.length - 2] as string);
    if (lastKey === undefined || lastKey < key) return new TagSet(this, key, value);
    // Rebuild from the root in key order so that equal sets meet at the same node.
    const all: Array<[string, string]> = [[key, value]];
    for (let i = 0; i < p.length; i += 2) all.push([p[i] as string, p[i + 1] as string]);
    all.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    let t = TagSet.EMPTY;
    for (const [k, v] of all) t = t.extend(k, v);
    return t;
  }
}
