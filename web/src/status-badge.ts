import type { RunResult, RunStatus } from '../../src/protocol/index.js';
import { h } from './dom.js';
import { statusFamily, statusText } from './format.js';

/** A status as a coloured badge: `Running (2)`, coloured by family. */
export function statusBadge(status: RunStatus): HTMLElement {
  return h('span', { class: `status status--${statusFamily(status)}`, 'data-status-code': status.code }, statusText(status));
}

/** The result as a badge: passed / failed / — while unknown. */
export function resultBadge(result: RunResult): HTMLElement {
  return result === null ? h('span', { class: 'result result--none' }, '—') : h('span', { class: `result result--${result}` }, result);
}
