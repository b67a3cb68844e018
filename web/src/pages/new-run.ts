import type { LoadTest, Run } from '../../../src/protocol/index.js';
import { api } from '../api.js';
import { projectsById, testsById } from '../catalog.js';
import { h, replace, row, table } from '../dom.js';
import { bytes, time } from '../format.js';
import { errorText, type Page } from '../page.js';

// Starting a run from the browser. A browser cannot bundle a script into an archive (that
// takes herd's bundler and transform), so: run a test again (its latest archive, uploaded by
// the CLI), upload an archive file, or copy the CLI command for a new script.

/** `#/new` */
export const newRunPage: Page = async (main, _params, scope) => {
  const [tests, projects] = await Promise.all([testsById(true), projectsById(true)]);
  if (!scope.alive) return;
  const note = h('div', { role: 'status' });
  const startAgain = async (test: LoadTest, button: HTMLButtonElement): Promise<void> => {
    button.disabled = true;
    try {
      const run = await api.post<Run>(`/tests/${test.id}/runs`);
      location.hash = `#/runs/${run.id}`;
    } catch (e) {
      replace(note, h('p', { class: 'banner banner--error' }, errorText(e)));
      button.disabled = false;
    }
  };
  const list = [...tests.values()].sort((a, b) => (a.updatedAt < b.updatedAt ? 1 : -1));
  const again = list.length === 0
    ? h('p', { class: 'muted' }, 'No tests yet: run a script once with the CLI (below), then run it again from here.')
    : table(['Test', 'Project', 'Latest archive', 'Updated', ''], list.map((t) => {
      const button = h('button', { type: 'button', 'data-test-id': t.id, disabled: t.latestArchive === null }, 'Run again');
      button.addEventListener('click', () => void startAgain(t, button));
      return row([t.name, projects.get(t.projectId)?.name ?? t.projectId, t.latestArchive === null ? 'none' : bytes(t.latestArchive.sizeBytes), time(t.updatedAt), h('td', null, button)],
        { 'data-test-name': t.name });
    }), { 'data-testid': 'tests' });

  const origin = location.origin;
  const cli = h('pre', { class: 'cli' }, `HERD_HOST=${origin} HERD_TOKEN=<your token> npx herd cloud run script.js`);
  const fileInput = h('input', { type: 'file', name: 'file', accept: '.js,.mjs,.ts,.tar,.gz,.tgz', required: true });
  const testName = h('input', { type: 'text', name: 'testName', placeholder: 'test name (new or existing)' });
  const projectSelect = h('select', { name: 'projectId' }, [...projects.values()].map((p) => h('option', { value: p.id }, p.name)));
  fileInput.addEventListener('change', () => {
    const f = fileInput.files?.[0];
    if (f === undefined) return;
    if (testName.value === '') testName.value = f.name.replace(/\.(tar\.gz|tgz|tar)$/, '');
    if (/\.(m?js|ts)$/.test(f.name)) {
      cli.textContent = `HERD_HOST=${origin} HERD_TOKEN=<your token> npx herd cloud run ${f.name}`;
      replace(note, h('p', { class: 'banner' }, `${f.name} is a script: the browser cannot pack it into an archive. Start it with the command shown above; afterwards it appears here under "Run again".`));
    } else replace(note);
  });
  const upload = h('form', {
    class: 'stack',
    onsubmit: (e: Event) => {
      e.preventDefault();
      const f = fileInput.files?.[0];
      if (f === undefined) return;
      if (/\.(m?js|ts)$/.test(f.name)) return;
      const form = new FormData();
      form.set('projectId', projectSelect.value);
      const existing = list.find((t) => t.name === testName.value && t.projectId === projectSelect.value);
      if (existing !== undefined) form.set('testId', existing.id);
      else form.set('testName', testName.value || f.name);
      form.set('archive', f, f.name);
      api.post<Run>('/runs', form).then((run) => (location.hash = `#/runs/${run.id}`), (err: unknown) => replace(note, h('p', { class: 'banner banner--error' }, errorText(err))));
    },
  }, h('label', null, 'Archive or script ', fileInput), h('label', null, 'Project ', projectSelect), h('label', null, 'Test ', testName),
  h('button', { type: 'submit' }, 'Upload and start'));

  replace(main,
    h('div', { class: 'page-head' }, h('h1', null, 'Start a run')),
    note,
    h('section', { class: 'card' }, h('h2', null, 'Run a test again'), h('p', { class: 'muted' }, 'Starts a new run of the test\'s latest archive.'), again),
    h('section', { class: 'card' }, h('h2', null, 'A new script'),
      h('p', null, 'The CLI packs the script and its imports into an archive, uploads it and follows the run:'), cli,
      h('p', { class: 'muted' }, 'Or upload an archive made by herd (.tar.gz) to start it here:'), upload));
};
