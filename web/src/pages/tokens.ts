import type { ApiToken, CreatedToken } from '../../../src/protocol/index.js';
import { api, ApiFailure } from '../api.js';
import { h, replace, row, table } from '../dom.js';
import { time } from '../format.js';
import { errorText, type Page } from '../page.js';
import { confirmDialog } from './run.js';

// API tokens: list, create (the secret is shown once) and revoke. Admin tokens only.

/** `#/tokens` */
export const tokensPage: Page = async (main, _params, scope) => {
  const listBox = h('div');
  const note = h('div', { role: 'status' });
  const name = h('input', { type: 'text', name: 'name', required: true, placeholder: 'e.g. ci', maxlength: 200 });
  const role = h('select', { name: 'role' }, h('option', { value: 'member' }, 'member (runs tests)'), h('option', { value: 'admin' }, 'admin (also tokens, organizations)'));
  const form = h('form', {
    class: 'inline',
    onsubmit: (e: Event) => {
      e.preventDefault();
      api.post<CreatedToken>('/tokens', { name: name.value, role: role.value }).then((created) => {
        name.value = '';
        replace(note, h('div', { class: 'banner banner--ok', 'data-testid': 'new-secret' },
          h('p', null, `Token "${created.token.name}" created. Copy its secret now: it is not shown again.`),
          h('pre', { class: 'cli' }, created.secret)));
        void load();
      }, (err: unknown) => replace(note, h('p', { class: 'banner banner--error' }, errorText(err))));
    },
  }, h('label', null, 'Name ', name), h('label', null, 'Role ', role), h('button', { type: 'submit' }, 'Create token'));
  replace(main, h('div', { class: 'page-head' }, h('h1', null, 'API tokens')), note,
    h('section', { class: 'card' }, h('h2', null, 'New token'), form),
    h('section', { class: 'card' }, h('h2', null, 'Tokens'), listBox));

  const revoke = async (t: ApiToken): Promise<void> => {
    if (!(await confirmDialog(`Revoke token "${t.name}"?`, 'Requests carrying it get 401 from now on. This cannot be undone.', 'Revoke'))) return;
    try {
      await api.del(`/tokens/${t.id}`);
      await load();
    } catch (e) {
      replace(note, h('p', { class: 'banner banner--error' }, errorText(e)));
    }
  };
  const load = async (): Promise<void> => {
    try {
      const { tokens } = await api.get<{ tokens: ApiToken[] }>('/tokens');
      if (!scope.alive) return;
      replace(listBox, table(['Name', 'Role', 'Created', 'State', ''], tokens.map((t) => row([
        t.name, t.role, time(t.createdAt), t.revokedAt === null ? h('span', { class: 'ok' }, 'active') : h('span', { class: 'bad' }, `revoked ${time(t.revokedAt)}`),
        h('td', null, t.revokedAt === null ? h('button', { type: 'button', class: 'danger small', onclick: () => void revoke(t) }, 'Revoke') : ''),
      ], { 'data-token-name': t.name })), { 'data-testid': 'tokens' }));
    } catch (e) {
      if (e instanceof ApiFailure && e.status === 403) {
        replace(main, h('div', { class: 'card' }, h('h1', null, 'API tokens'), h('p', null, 'Managing tokens needs an admin token; this one is a member token.')));
        return;
      }
      throw e;
    }
  };
  await load();
};
