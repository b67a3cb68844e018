import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { api, clearToken, setUnauthorizedHandler, storedToken, storeToken } from './api.js';
import { forgetCatalog } from './catalog.js';
import { h, replace } from './dom.js';
import { setLive } from './live-indicator.js';
import { errorText, Scope, type Page } from './page.js';
import { agentsPage } from './pages/agents.js';
import { comparePage } from './pages/compare.js';
import { newRunPage } from './pages/new-run.js';
import { runPage } from './pages/run.js';
import { runsPage } from './pages/runs.js';
import { tokensPage } from './pages/tokens.js';
import { usagePage } from './pages/usage.js';

// The dashboard's shell: sign-in, the header, and hash routes to pages.

const routes: readonly [RegExp, Page, string][] = [
  [/^\/runs\/?$/, runsPage, 'runs'],
  [/^\/runs\/(\d+)$/, runPage, 'runs'],
  [/^\/new$/, newRunPage, 'new'],
  [/^\/compare\/(\d+)\/(\d+)$/, comparePage, 'runs'],
  [/^\/agents$/, agentsPage, 'agents'],
  [/^\/usage$/, usagePage, 'usage'],
  [/^\/tokens$/, tokensPage, 'tokens'],
];

const NAV: readonly [string, string, string][] = [
  ['runs', '#/runs', 'Runs'], ['new', '#/new', 'New run'], ['agents', '#/agents', 'Load zones'], ['usage', '#/usage', 'Usage'], ['tokens', '#/tokens', 'Tokens'],
];

const root = document.getElementById('app') as HTMLElement;
let scope = new Scope();

/**
 * `#token=<secret>` (optionally `&to=/runs/42`) signs in directly, as the CLI's links do; the
 * token is then taken out of the address bar and history at once.
 */
function takeTokenFromAddress(): void {
  const m = /^#token=([^&]+)(?:&to=(.*))?$/.exec(location.hash);
  if (m === null) return;
  storeToken(decodeURIComponent(m[1] ?? ''));
  const to = m[2] === undefined ? '/runs' : decodeURIComponent(m[2]);
  history.replaceState(null, '', `${location.pathname}${location.search}#${to.startsWith('/') ? to : '/runs'}`);
}

function signOut(): void {
  clearToken();
  forgetCatalog();
  route();
}

function signInPage(message?: string): void {
  scope.dispose();
  scope = new Scope();
  setLive('off');
  const input = h('input', { type: 'password', name: 'token', autocomplete: 'off', placeholder: 'API token', required: true, 'aria-label': 'API token' });
  const note = h('p', { class: 'error', role: 'alert' }, message ?? '');
  const form = h('form', {
    class: 'card signin',
    onsubmit: (e: Event) => {
      e.preventDefault();
      const token = input.value.trim();
      api.get('/organizations', undefined, token).then(() => {
        storeToken(token);
        if (location.hash === '' || location.hash === '#/' || location.hash === '#') location.hash = '#/runs';
        else route();
      }, (err: unknown) => replace(note, errorText(err)));
    },
  },
  h('h1', null, 'Sign in to herd'),
  h('p', { class: 'muted' }, 'Paste an API token (the admin token the server printed, or one created on the Tokens page). It is kept for this browser tab only.'),
  input, h('button', { type: 'submit' }, 'Sign in'), note);
  replace(root, h('main', { class: 'signin-wrap' }, form));
  input.focus();
}

function shell(active: string): HTMLElement {
  const main = h('main', { id: 'main' });
  replace(root,
    h('header', { class: 'top' },
      h('a', { class: 'brand', href: '#/runs' }, 'herd'),
      h('nav', null, NAV.map(([key, href, text]) => h('a', { href, class: key === active ? 'active' : '' }, text))),
      h('span', { id: 'live', 'data-live': 'off' }),
      h('button', { class: 'link', type: 'button', onclick: signOut }, 'Sign out')),
    main);
  return main;
}

function route(): void {
  takeTokenFromAddress();
  if (storedToken() === null) {
    signInPage();
    return;
  }
  const path = location.hash.replace(/^#/, '') || '/runs';
  scope.dispose();
  scope = new Scope();
  setLive('off');
  for (const [re, page, nav] of routes) {
    const m = re.exec(path);
    if (m === null) continue;
    const main = shell(nav);
    const mine = scope;
    Promise.resolve(page(main, m.slice(1), mine)).catch((e: unknown) => {
      if (mine.alive) replace(main, h('div', { class: 'card error' }, h('h1', null, 'Something went wrong'), h('p', null, errorText(e))));
    });
    return;
  }
  location.replace('#/runs');
}

setUnauthorizedHandler(() => {
  clearToken();
  signInPage('That token is not valid (unknown or revoked). Sign in again.');
});
window.addEventListener('hashchange', route);
route();
