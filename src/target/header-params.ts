/** A header value of the form `type; key=value; key2="quoted value"`, split into its parts. */
export interface ParsedHeaderValue {
  /** The part before the first `;`, trimmed and lower-cased (`multipart/form-data`). */
  type: string;
  /** Parameters by lower-cased name; quoted values are unquoted and unescaped. */
  params: Map<string, string>;
}

/**
 * Splits `Content-Type` / `Content-Disposition` style values. A `;` inside a quoted string
 * does not end the parameter, so `filename="a;b.txt"` survives intact.
 */
export function parseHeaderValue(value: string): ParsedHeaderValue {
  const params = new Map<string, string>();
  let i = value.indexOf(';');
  const type = (i === -1 ? value : value.slice(0, i)).trim().toLowerCase();
  if (i === -1) return { type, params };
  const n = value.length;
  while (i < n) {
    i++; // past the ';'
    const eq = value.indexOf('=', i);
    const semi = value.indexOf(';', i);
    if (eq === -1 || (semi !== -1 && semi < eq)) {
      // A bare word without `=`: no value to record.
      if (semi === -1) break;
      i = semi;
      continue;
    }
    const key = value.slice(i, eq).trim().toLowerCase();
    let j = eq + 1;
    while (j < n && (value[j] === ' ' || value[j] === '\t')) j++;
    let paramValue: string;
    if (value[j] === '"') {
      let text = '';
      j++;
      while (j < n && value[j] !== '"') {
        if (value[j] === '\\' && j + 1 < n) j++;
        text += value[j];
        j++;
      }
      paramValue = text;
      const after = value.indexOf(';', j);
      i = after === -1 ? n : after;
    } else {
      const end = value.indexOf(';', j);
      paramValue = value.slice(j, end === -1 ? n : end).trim();
      i = end === -1 ? n : end;
    }
    if (key.length > 0 && !params.has(key)) params.set(key, paramValue);
  }
  return { type, params };
}
