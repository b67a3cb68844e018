/**
 * The part of gjson's path syntax (https://github.com/tidwall/gjson#path-syntax) that k6's
 * `Response.json(selector)` is used with, evaluated on the already parsed body:
 *
 *   name.first       object keys, separated by dots; `\.` escapes a dot, `*` and `?` are
 *                    wildcards in a key (the first matching key is used)
 *   items.1          array index
 *   items.#          array length
 *   items.#.id       the `id` of every element (elements without it are skipped)
 *   items.#(id==2)   the first element matching a condition (==, !=, <, <=, >, >=, % like,
 *                    !% not like); `#(…)#` gives every match; `#(tags)` tests existence
 *
 * A path that leads nowhere yields `{found: false}`, which k6 turns into `undefined`.
 */

/** The result of a lookup. */
export type SelectorResult = { found: true; value: unknown } | { found: false };

const NOT_FOUND: SelectorResult = { found: false };

/** Splits a path on unescaped dots outside `#(…)`, keeping escapes in each component. */
function splitPath(path: string): string[] {
  const out: string[] = [];
  let cur = '';
  let depth = 0;
  for (let i = 0; i < path.length; i++) {
    const c = path[i] as string;
    if (c === '\\' && i + 1 < path.length) {
      cur += c + (path[i + 1] as string);
      i++;
    } else if (c === '(') {
      depth++;
      cur += c;
    } else if (c === ')') {
      depth--;
      cur += c;
    } else if (c === '.' && depth === 0) {
      out.push(cur);
      cur = '';
    } else {
      cur += c;
    }
  }
  out.push(cur);
  return out;
}

function unescape(s: string): string {
  return s.replace(/\\(.)/g, '$1');
}

function hasWildcard(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\') i++;
    else if (c === '*' || c === '?') return true;
  }
  return false;
}

/** gjson-style glob: `*` any run, `?` one character, `\` escapes. */
function globMatch(pattern: string, text: string): boolean {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '\\' && i + 1 < pattern.length) re += (pattern[++i] as string).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    else if (c === '*') re += '[\\s\\S]*';
    else if (c === '?') re += '[\\s\\S]';
    else re += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`${re}$`).test(text);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

interface Query {
  readonly path: string;
  readonly op: string;
  readonly value: unknown;
  readonly all: boolean;
}

const OPS = ['==', '!=', '<=', '>=', '!%', '<', '>', '%', '='];

function parseQuery(comp: string): Query | null {
  const all = comp.endsWith(')#');
  const inner = comp.slice(2, all ? -2 : -1);
  for (const op of OPS) {
    const i = inner.indexOf(op);
    if (i < 0) continue;
    const path = inner.slice(0, i).trim();
    const raw = inner.slice(i + op.length).trim();
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      value = raw;
    }
    return { path, op: op === '=' ? '==' : op, value, all };
  }
  return { path: inner.trim(), op: '', value: undefined, all };
}

function compare(left: unknown, op: string, right: unknown): boolean {
  switch (op) {
    case '==':
      return left === right;
    case '!=':
      return left !== right;
    case '%':
      return typeof left === 'string' && typeof right === 'string' && globMatch(right, left);
    case '!%':
      return typeof left === 'string' && typeof right === 'string' && !globMatch(right, left);
    default: {
      if (typeof left !== typeof right || (typeof left !== 'number' && typeof left !== 'string')) return false;
      const l = left as number | string;
      const r = right as number | string;
      if (op === '<') return l < r;
      if (op === '<=') return l <= r;
      if (op === '>') return l > r;
      return l >= r;
    }
  }
}

function matchesQuery(el: unknown, q: Query): boolean {
  const lhs = q.path === '' ? ({ found: true, value: el } as SelectorResult) : walk(el, splitPath(q.path), 0);
  if (q.op === '') return lhs.found;
  return lhs.found && compare(lhs.value, q.op, q.value);
}

function walk(node: unknown, comps: readonly string[], i: number): SelectorResult {
  if (i === comps.length) return { found: true, value: node };
  const comp = comps[i] as string;
  if (Array.isArray(node)) {
    if (comp === '#') {
      if (i === comps.length - 1) return { found: true, value: node.length };
      const out: unknown[] = [];
      for (const el of node) {
        const r = walk(el, comps, i + 1);
        if (r.found) out.push(r.value);
      }
      return { found: true, value: out };
    }
    if (comp.startsWith('#(') && (comp.endsWith(')') || comp.endsWith(')#'))) {
      const q = parseQuery(comp);
      if (q === null) return NOT_FOUND;
      if (q.all) {
        const out: unknown[] = [];
        for (const el of node) {
          if (!matchesQuery(el, q)) continue;
          const r = walk(el, comps, i + 1);
          if (r.found) out.push(r.value);
        }
        return { found: true, value: out };
      }
      for (const el of node) if (matchesQuery(el, q)) return walk(el, comps, i + 1);
      return NOT_FOUND;
    }
    if (/^\d+$/.test(comp)) {
      const idx = Number(comp);
      return idx < node.length ? walk(node[idx], comps, i + 1) : NOT_FOUND;
    }
    return NOT_FOUND;
  }
  if (isPlainObject(node)) {
    if (hasWildcard(comp)) {
      for (const k of Object.keys(node)) if (globMatch(comp, k)) return walk(node[k], comps, i + 1);
      return NOT_FOUND;
    }
    const key = unescape(comp);
    return Object.prototype.hasOwnProperty.call(node, key) ? walk(node[key], comps, i + 1) : NOT_FOUND;
  }
  return NOT_FOUND;
}

/** Looks `path` up in `doc` with gjson's syntax. */
export function selectJson(doc: unknown, path: string): SelectorResult {
  if (path === '') return NOT_FOUND;
  return walk(doc, splitPath(path), 0);
}
