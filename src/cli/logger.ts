import type { Logger, LogLevel } from '../runtime/vu-state.js';

const LABEL: Record<LogLevel, string> = { debug: 'DEBU', info: 'INFO', warn: 'WARN', error: 'ERRO' };
const COLOR: Record<LogLevel, string> = { debug: '\x1b[37m', info: '\x1b[36m', warn: '\x1b[33m', error: '\x1b[31m' };

/**
 * Writes log lines the way k6 does on a terminal: `ERRO[0003] message  key=value`, the
 * number being seconds since the start. Multi-line messages (stack traces) stay readable.
 */
export function createLogger(opts: { write(text: string): void; color: boolean; now?: () => number; minLevel?: LogLevel }): Logger {
  const start = (opts.now ?? Date.now)();
  const order: LogLevel[] = ['debug', 'info', 'warn', 'error'];
  const min = order.indexOf(opts.minLevel ?? 'info');
  return {
    log(level, message, fields) {
      if (order.indexOf(level) < min) return;
      const secs = Math.floor(((opts.now ?? Date.now)() - start) / 1000);
      const label = `${LABEL[level]}[${String(secs).padStart(4, '0')}]`;
      const head = opts.color ? `${COLOR[level]}${label}\x1b[0m` : label;
      const extra = fields === undefined ? '' : Object.entries(fields).map(([k, v]) => ` ${k}=${/\s/.test(v) ? JSON.stringify(v) : v}`).join('');
      opts.write(`${head} ${message}${extra === '' ? '' : ` ${extra}`}\n`);
    },
  };
}
