/**
 * Repeatable random execution-segment sequences for property tests of executors over
 * segments. Not used in production.
 */

/** A deterministic pseudo-random generator, so property tests are repeatable. */
export function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

/** A random full sequence of up to 5 segments with denominators up to 12. */
export function randomSequence(rand: () => number): string {
  const points = new Map<number, string>([[0, '0'], [1, '1']]);
  const n = 1 + Math.floor(rand() * 4);
  for (let i = 0; i < n; i++) {
    const d = 2 + Math.floor(rand() * 11);
    const num = 1 + Math.floor(rand() * (d - 1));
    if (!points.has(num / d)) points.set(num / d, `${num}/${d}`);
  }
  return [...points.entries()].sort((a, b) => a[0] - b[0]).map((p) => p[1]).join(',');
}
