// Relative imports, a re-export through an index file, and an open() in a nested module.
import { greet, VERSION } from './lib/index.js';
import * as lib from './lib/index.js';
export { shout as loud } from './lib/words.js';
export { readData } from './lib/data.js';

export const options = { vus: 1 };
export const greeting = greet('herd');
export const version = VERSION;
export const namespaceHasGreet = typeof lib.greet === 'function';
