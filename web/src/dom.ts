// A tiny DOM builder: `h('td', { class: 'num' }, text)`. Text always goes in as text nodes,
// never as HTML, so values from the API cannot inject markup.

/** What may be a child: nodes, text, numbers, and nothing (skipped); arrays are flattened. */
export type Child = Node | string | number | null | undefined | false | readonly Child[];

/** Attributes: strings/numbers set as attributes, `true` as an empty one, `on*` functions as listeners. */
export type Attrs = Record<string, string | number | boolean | null | undefined | ((ev: Event) => void)>;

/** Creates an element with attributes and children. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Attrs | null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (typeof v === 'function') el.addEventListener(k.slice(2).toLowerCase(), v);
      else if (k === 'value' && 'value' in el) (el as unknown as { value: string }).value = String(v);
      else el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, children);
  return el;
}

/** Appends children (flattened, empty ones skipped). */
export function append(parent: Node, children: readonly Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(parent, c);
    else if (c instanceof Node) parent.appendChild(c);
    else parent.appendChild(document.createTextNode(String(c)));
  }
}

/** Replaces all children of `parent`. */
export function replace(parent: Node, ...children: Child[]): void {
  while (parent.firstChild) parent.removeChild(parent.firstChild);
  append(parent, children);
}

/** A table with a header row; rows are arrays of cells (a `td` element or anything to put in one). */
export function table(headers: readonly string[], rows: readonly (readonly Child[] | HTMLTableRowElement)[], attrs?: Attrs): HTMLElement {
  const body = h('tbody');
  for (const r of rows) body.appendChild(r instanceof HTMLTableRowElement ? r : row(r));
  return h('div', { class: 'table-wrap' }, h('table', attrs ?? null, h('thead', null, h('tr', null, headers.map((t) => h('th', null, t)))), body));
}

/** A table row; cells that are `td` elements are kept, others wrapped. */
export function row(cells: readonly Child[], attrs?: Attrs): HTMLTableRowElement {
  return h('tr', attrs ?? null, cells.map((c) => (c instanceof HTMLTableCellElement ? c : h('td', null, c))));
}
