import type { StreamState } from './api.js';

// The "live" dot in the header: whether the page's live-event stream is connected.

/** Shows the state of the current page's live stream; `off` when the page has none. */
export function setLive(state: StreamState | 'off'): void {
  const el = document.getElementById('live');
  if (el === null) return;
  el.dataset['live'] = state;
  el.textContent = state === 'open' ? '● live' : state === 'off' ? '' : state === 'connecting' ? '○ connecting' : '○ reconnecting';
  el.title = state === 'open' ? 'receiving live events' : '';
}
