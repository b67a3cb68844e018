import { HerdError } from '../errors/index.js';
import { startTarget } from '../target/index.js';
import type { CliIO } from './io.js';

/** `herd target`: serves the demo target until Ctrl+C. */
export async function targetCommand(flags: { port: string; host: string }, io: CliIO): Promise<number> {
  if (!/^\d+$/.test(flags.port) || Number(flags.port) > 65535) {
    throw new HerdError('invalid_flag', `--port must be a port number from 0 to 65535, got ${JSON.stringify(flags.port)}`);
  }
  const target = await startTarget({ port: Number(flags.port), host: flags.host });
  io.stdout(`listening on ${target.url}\n`);
  await new Promise<void>((resolve) => {
    const off = io.onInterrupt(() => {
      off();
      resolve();
    });
  });
  await target.close();
  return 0;
}
