/**
 * The k6 APIs that block a VU in k6 and return a Promise in herd, by module specifier.
 * The transform awaits every call of these (and of every function that reaches one).
 * Extend it here when a runtime module gains a blocking function.
 */
export const BLOCKING_CALLS: Readonly<Record<string, readonly string[]>> = {
  k6: ['sleep', 'group', 'check'],
  'k6/http': ['get', 'post', 'put', 'patch', 'del', 'head', 'options', 'request', 'batch'],
  'k6/ws': ['connect'],
};

/** Array methods whose callbacks the transform runs one after another when they block. */
export const SEQUENTIAL_ARRAY_METHODS: ReadonlySet<string> = new Set([
  'forEach', 'map', 'filter', 'reduce', 'reduceRight', 'some', 'every',
  'find', 'findIndex', 'findLast', 'findLastIndex', 'flatMap',
]);

/** A readable name for a blocking call in messages: `http.get`, `sleep`, `ws.connect`. */
export function blockingLabel(specifier: string, name: string): string {
  if (specifier === 'k6') return name;
  const last = specifier.slice(specifier.lastIndexOf('/') + 1);
  return `${last}.${name}`;
}
