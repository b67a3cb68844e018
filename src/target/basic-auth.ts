import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendEmpty, sendError, sendJson, sendNotFound } from './respond.js';

/** The `WWW-Authenticate` header sent with every 401 of the target. */
export const BASIC_CHALLENGE: Readonly<Record<string, string>> = {
  'WWW-Authenticate': 'Basic realm="herd-target"',
};

/**
 * `GET /basic-auth/<user>/<passwd>` (`rest` is `<user>/<passwd>`, still URL-encoded).
 * Segments are decoded after splitting so that an encoded `/` may appear in a password.
 */
export function handleBasicAuth(req: IncomingMessage, res: ServerResponse, rest: string): void {
  const segments = rest.split('/');
  if (segments.length !== 2) {
    sendNotFound(res);
    return;
  }
  let user: string;
  let passwd: string;
  try {
    user = decodeURIComponent(segments[0]!);
    passwd = decodeURIComponent(segments[1]!);
  } catch {
    sendError(res, 400, 'invalid path encoding');
    return;
  }
  const header = req.headers.authorization;
  const match = header === undefined ? null : /^basic[ \t]+(\S*)[ \t]*$/i.exec(header);
  if (match !== null && Buffer.from(match[1]!, 'base64').toString('utf8') === `${user}:${passwd}`) {
    sendJson(res, 200, { authenticated: true, user });
    return;
  }
  sendEmpty(res, 401, BASIC_CHALLENGE);
}
