/**
 * `http.url` tagged templates. The result stands for the real URL wherever a URL is accepted,
 * and requests made with it are tagged name = the template text with every interpolation
 * replaced by `${}`, so that `http.url\`${base}/items/${id}\`` groups all ids under one name.
 */
export class HttpUrl {
  constructor(
    /** The URL with the interpolated values. */
    readonly url: string,
    /** The `name` tag: the template with `${}` placeholders. */
    readonly name: string,
  ) {}

  /** The real URL, so that string contexts see it. */
  toString(): string {
    return this.url;
  }
}

/** The `http.url` template tag. */
export function urlTemplate(strings: TemplateStringsArray | readonly string[], ...values: unknown[]): HttpUrl {
  let url = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) url += String(values[i]) + (strings[i + 1] ?? '');
  return new HttpUrl(url, strings.join('${}'));
}
