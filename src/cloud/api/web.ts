import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';

// Serves the dashboard (web/dist, built by `npm run build:web`) at `/`. Static files need no
// token: the app signs in with one and sends it on every API call itself. Only the files the
// build wrote are served, by name, so no path from a request ever reaches the file system.

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

// The app talks only to its own origin; charts and the report use data: and blob: URLs.
const CSP = "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/**
 * Serves the built dashboard in `webDistDir` at `/` (index.html) and `/<file>` (its assets),
 * without authentication. When the dashboard was not built, `/` says how to build it.
 */
export function registerDashboard(app: FastifyInstance, webDistDir: string): void {
  // Listed on each request (a few files), so a rebuild while the server runs is picked up.
  const files = (): Promise<Set<string>> => readdir(webDistDir, { withFileTypes: true }).then(
    (entries) => new Set(entries.filter((e) => e.isFile() && !e.name.startsWith('.') && path.extname(e.name) in CONTENT_TYPES).map((e) => e.name)),
    () => new Set<string>(),
  );
  const send = async (reply: FastifyReply, name: string): Promise<FastifyReply> => {
    const type = CONTENT_TYPES[path.extname(name)] ?? 'application/octet-stream';
    const body = await readFile(path.join(webDistDir, name));
    return reply
      .type(type)
      .header('cache-control', 'no-cache')
      .header('x-content-type-options', 'nosniff')
      .header('content-security-policy', CSP)
      .send(body);
  };
  app.get('/', async (_request, reply) => {
    if (!(await files()).has('index.html')) {
      return reply.code(503).type('text/plain; charset=utf-8').send('The herd dashboard is not built: run `npm run build:web` in the herd folder, then restart the server.\n');
    }
    return send(reply, 'index.html');
  });
  app.get<{ Params: { file: string } }>('/:file', async (request, reply) => {
    const name = request.params.file;
    if (!(await files()).has(name)) return reply.callNotFound();
    return send(reply, name);
  });
}
