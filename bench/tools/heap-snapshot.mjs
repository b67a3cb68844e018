// Summaries of a V8 heap snapshot (node --heapsnapshot-signal=SIGUSR2 …, then kill -USR2 <pid>),
// to find what each VU keeps. Use `herd run --workers 1`: with more workers the main thread's
// snapshot holds no VUs.
//   node bench/tools/heap-snapshot.mjs FILE [top]                  self size by node type and name
//   node bench/tools/heap-snapshot.mjs FILE retainers "TYPE NAME"  what holds nodes of that kind ("object Map", "array ")
//   node bench/tools/heap-snapshot.mjs FILE lone-shapes            hidden classes that only one object uses, by owner
import { readFileSync } from 'node:fs';

const [file, mode = '40', arg] = process.argv.slice(2);
if (!file) {
  console.error('usage: node bench/tools/heap-snapshot.mjs FILE [top | retainers "TYPE NAME" | lone-shapes]');
  process.exit(2);
}
const s = JSON.parse(readFileSync(file, 'utf8'));
const { node_fields: nf, edge_fields: ef, node_types: nt, edge_types: et } = s.snapshot.meta;
const N = nf.length;
const E = ef.length;
const [nType, nName, nSize, nEdges] = ['type', 'name', 'self_size', 'edge_count'].map((f) => nf.indexOf(f));
const [eType, eName, eTo] = ['type', 'name_or_index', 'to_node'].map((f) => ef.indexOf(f));
const types = nt[0];
const edgeTypes = et[0];
const count = s.nodes.length / N;
const firstEdge = new Uint32Array(count + 1);
for (let i = 0, e = 0; i < count; i++) {
  firstEdge[i] = e;
  e += s.nodes[i * N + nEdges] * E;
}
const typeOf = (i) => types[s.nodes[i * N + nType]];
const sizeOf = (i) => s.nodes[i * N + nSize];
const label = (i) => {
  const t = typeOf(i);
  if (t.includes('string')) return `${t} (string)`;
  if (t === 'code') return 'code (code)';
  return `${t} ${String(s.strings[s.nodes[i * N + nName]]).slice(0, 60)}`;
};
const edgesOf = function* (i) {
  for (let e = firstEdge[i]; e < firstEdge[i] + s.nodes[i * N + nEdges] * E; e += E) {
    const type = edgeTypes[s.edges[e + eType]];
    const name = type === 'element' || type === 'hidden' ? `[${type}]` : String(s.strings[s.edges[e + eName]]);
    yield { type, name, to: s.edges[e + eTo] / N };
  }
};
const print = (agg, top) => {
  for (const [k, [size, n]] of [...agg].sort((a, b) => b[1][0] - a[1][0]).slice(0, top)) {
    console.log(`${(size / 1024).toFixed(0).padStart(9)} KiB ${String(n).padStart(8)}  ${k}`);
  }
};
const add = (agg, key, size) => {
  const a = agg.get(key) ?? [0, 0];
  a[0] += size;
  a[1]++;
  agg.set(key, a);
};

const agg = new Map();
if (mode === 'retainers') {
  for (let i = 0; i < count; i++) {
    for (const e of edgesOf(i)) {
      if (e.type === 'weak' || label(e.to) !== arg) continue;
      add(agg, `${label(i)} --${e.name}-->`, sizeOf(e.to));
    }
  }
  print(agg, 30);
} else if (mode === 'lone-shapes') {
  const users = new Map();
  for (let i = 0; i < count; i++) {
    for (const e of edgesOf(i)) {
      if (e.type !== 'internal' || e.name !== 'map') continue;
      const u = users.get(e.to) ?? { n: 0, owner: '' };
      u.n++;
      u.owner = label(i);
      users.set(e.to, u);
    }
  }
  for (const [shape, u] of users) {
    if (u.n > 1) continue;
    let size = sizeOf(shape);
    for (const e of edgesOf(shape)) if (e.name === 'descriptors') size += sizeOf(e.to);
    add(agg, u.owner, size);
  }
  print(agg, 20);
} else {
  let total = 0;
  for (let i = 0; i < count; i++) {
    total += sizeOf(i);
    add(agg, label(i), sizeOf(i));
  }
  console.log(`total ${(total / 1048576).toFixed(1)} MiB`);
  print(agg, Number(mode));
}
