import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Where a remote module's text came from. */
export type RemoteSource = 'cache' | 'network';

/**
 * Fetches remote (`https://`) modules once and keeps them in a cache directory, one file per URL
 * named by the URL's SHA-256, so a later load (or a load without network) reuses the copy.
 */
export class RemoteModuleCache {
  private readonly memory = new Map<string, string>();

  constructor(private readonly dir: string) {}

  /** The module text for `url`, from memory, the cache directory, or the network (then cached). */
  async get(url: string): Promise<{ text: string; source: RemoteSource }> {
    const known = this.memory.get(url);
    if (known !== undefined) return { text: known, source: 'cache' };
    const file = join(this.dir, `${createHash('sha256').update(url).digest('hex')}.js`);
    try {
      const text = await readFile(file, 'utf8');
      this.memory.set(url, text);
      return { text, source: 'cache' };
    } catch {
      // not cached yet: fetch below
    }
    const res = await fetch(url, { signal: AbortSignal.timeout(30_000), redirect: 'follow' });
    if (!res.ok) throw new Error(`GET ${url} answered ${res.status} ${res.statusText}`);
    const text = await res.text();
    await mkdir(this.dir, { recursive: true });
    // Write then rename, so a concurrent load never reads a half-written file.
    const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
    await writeFile(tmp, text, 'utf8');
    await rename(tmp, file);
    this.memory.set(url, text);
    return { text, source: 'network' };
  }
}
