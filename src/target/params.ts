/** Query or form fields: a key seen once maps to a string, a repeated key to an array. */
export type FieldMap = Record<string, string | string[]>;

/** Creates an empty field map; the null prototype keeps `__proto__` an ordinary key. */
export function emptyFields(): FieldMap {
  return Object.create(null) as FieldMap;
}

/** Adds one field, turning the entry into an array on its second occurrence. */
export function addField(map: FieldMap, key: string, value: string): void {
  const previous = map[key];
  if (previous === undefined) map[key] = value;
  else if (typeof previous === 'string') map[key] = [previous, value];
  else previous.push(value);
}

/**
 * Parses `a=1&b=2&a=3` (a query string without `?`, or an urlencoded form body) into a
 * field map with URL-decoded keys and values (`+` is a space, as in HTML forms).
 */
export function parseUrlEncoded(text: string): FieldMap {
  const map = emptyFields();
  if (text.length === 0) return map;
  for (const [key, value] of new URLSearchParams(text)) addField(map, key, value);
  return map;
}
