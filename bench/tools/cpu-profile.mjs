// Summaries of a CPU profile (node --cpu-prof --cpu-prof-dir=DIR bin/herd.js run …).
//   node bench/tools/cpu-profile.mjs FILE [top]                 self time per function
//   node bench/tools/cpu-profile.mjs FILE total REGEX [top]     inclusive time of functions whose "name file:line" matches
import { readFileSync } from 'node:fs';

const [file, mode = '40', pattern = '.', topArg = '40'] = process.argv.slice(2);
if (!file) {
  console.error('usage: node bench/tools/cpu-profile.mjs FILE [top | total REGEX [top]]');
  process.exit(2);
}
const p = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const spent = new Map();
for (let i = 0; i < p.samples.length; i++) spent.set(p.samples[i], (spent.get(p.samples[i]) ?? 0) + (p.timeDeltas[i] ?? 0));
let total = 0;
for (const t of spent.values()) total += t;
const key = (id) => {
  const cf = byId.get(id).callFrame;
  return `${cf.functionName || '(anonymous)'} ${cf.url.split('/').slice(-2).join('/')}:${cf.lineNumber}`;
};
const agg = new Map();
if (mode === 'total') {
  const re = new RegExp(pattern);
  for (const [id, t] of spent) {
    const seen = new Set();
    for (let x = id; x !== undefined; x = parent.get(x)) {
      const k = key(x);
      if (seen.has(k) || !re.test(k)) continue;
      seen.add(k);
      agg.set(k, (agg.get(k) ?? 0) + t);
    }
  }
} else {
  for (const [id, t] of spent) agg.set(key(id), (agg.get(key(id)) ?? 0) + t);
}
const top = Number(mode === 'total' ? topArg : mode);
for (const [k, t] of [...agg].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${((100 * t) / total).toFixed(1).padStart(5)}%  ${k}`);
