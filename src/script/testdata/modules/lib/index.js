export * from './words.js';
export const VERSION = '1.2.3';
