import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectJson } from './json-selector.js';

const doc = {
  store: {
    name: 'Herd Test Store',
    'dotted.key': 'yes',
    items: [
      { id: 1, name: 'apple', price: 1.25, tags: ['fruit', 'red'] },
      { id: 2, name: 'bread', price: 2.5, tags: ['bakery'] },
      { id: 3, name: 'cheese', price: 7.75 },
    ],
  },
};

function get(path: string): unknown {
  const r = selectJson(doc, path);
  return r.found ? r.value : undefined;
}

test('dotted paths and array indexes reach nested values', () => {
  assert.equal(get('store.name'), 'Herd Test Store');
  assert.equal(get('store.items.1.name'), 'bread');
  assert.equal(get('store.items.0.tags.1'), 'red');
});

test('# counts an array and #.field maps over it, skipping elements without the field', () => {
  assert.equal(get('store.items.#'), 3);
  assert.deepEqual(get('store.items.#.id'), [1, 2, 3]);
  assert.deepEqual(get('store.items.#.tags.0'), ['fruit', 'bakery']);
});

test('missing keys, indexes past the end and paths through scalars are not found', () => {
  assert.equal(selectJson(doc, 'store.nope').found, false);
  assert.equal(selectJson(doc, 'store.items.9').found, false);
  assert.equal(selectJson(doc, 'store.name.x').found, false);
  assert.equal(selectJson(doc, '').found, false);
});

test('escaped dots and wildcards select keys', () => {
  assert.equal(get('store.dotted\\.key'), 'yes');
  assert.equal(get('st*.na?e'), 'Herd Test Store');
});

test('queries pick the first or every matching element', () => {
  assert.equal(get('store.items.#(name=="bread").id'), 2);
  assert.deepEqual(get('store.items.#(price>2)#.name'), ['bread', 'cheese']);
  assert.deepEqual(get('store.items.#(tags)#.id'), [1, 2]);
  assert.equal(get('store.items.#(name%"ch*").price'), 7.75);
  assert.equal(selectJson(doc, 'store.items.#(id==9)').found, false);
});

test('a found null is distinguished from a missing value', () => {
  const r = selectJson({ a: null }, 'a');
  assert.deepEqual(r, { found: true, value: null });
});
