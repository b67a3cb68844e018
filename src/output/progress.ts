/** What the progress display shows at one moment. */
export interface ProgressSnapshot {
  elapsedMs: number;
  vus: number;
  vusMax: number;
  iterationsCompleted: number;
  iterationsInterrupted: number;
  /** One entry per scenario; `progress` is 0..1, `label` the executor's text (`02/10 VUs  00m05.0s/30s`). */
  scenarios: Array<{ name: string; executor: string; progress: number; label: string }>;
}

/** Timer functions, injectable so that tests drive the ticks. */
export interface ProgressTimers {
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

/** Settings of the progress display. */
export interface ProgressOptions {
  /** Redraw in place (a terminal) or print plain lines (a log). */
  tty: boolean;
  /** Where the display goes (the CLI passes stderr). */
  write(s: string): void;
  /** Time between redraws: default 150 ms on a terminal, 1000 ms otherwise (k6's rates). */
  intervalMs?: number;
  /** Default: the global timers. */
  timers?: ProgressTimers;
}

const BAR_WIDTH = 40;
const CLEAR_TO_END = '\x1b[K';

/**
 * The progress display of `herd run`, laid out like k6's: a `running (...)` line, then one
 * bar per scenario. On a terminal it redraws in place, going back up with ANSI cursor moves;
 * otherwise it prints the same lines, with compact percentage bars, at each tick, which
 * reads well in CI logs.
 */
export class Progress {
  private readonly intervalMs: number;
  private readonly timers: ProgressTimers;
  private handle: unknown;

  constructor(private readonly opts: ProgressOptions) {
    this.intervalMs = opts.intervalMs ?? (opts.tty ? 150 : 1000);
    this.timers = opts.timers ?? {
      setInterval: (fn, ms) => setInterval(fn, ms),
      clearInterval: (h) => clearInterval(h as NodeJS.Timeout),
    };
  }

  /** Starts redrawing from `source` every interval (no-op when already started). */
  start(source: () => ProgressSnapshot): void {
    if (this.handle !== undefined) return;
    this.handle = this.timers.setInterval(() => this.draw(source(), false), this.intervalMs);
    // The display must never keep the process alive.
    (this.handle as { unref?: () => void } | null)?.unref?.();
  }

  /** Stops redrawing and draws `final` once, leaving it on screen. Safe to call twice. */
  stop(final: ProgressSnapshot): void {
    if (this.handle !== undefined) {
      this.timers.clearInterval(this.handle);
      this.handle = undefined;
    }
    this.draw(final, true);
  }

  private draw(s: ProgressSnapshot, final: boolean): void {
    if (!this.opts.tty) {
      this.opts.write(renderProgressPlain(s) + '\n');
      return;
    }
    const lines = renderProgressLines(s, true);
    let text = lines.map((l) => l + CLEAR_TO_END + '\n').join('');
    // Go back to the first line so that the next frame overwrites this one.
    if (!final) text += `\r\x1b[${lines.length}A`;
    this.opts.write(text);
  }
}

/** Elapsed time as k6's progress shows it: `00m05.0s`, `1h02m05.0s` (tenths, rounded down). */
export function formatProgressDuration(ms: number): string {
  const tenths = Math.floor(Math.max(0, ms) / 100);
  const hours = Math.floor(tenths / 36_000);
  const minutes = Math.floor((tenths % 36_000) / 600);
  const seconds = (tenths % 600) / 10;
  const mm = String(minutes).padStart(2, '0');
  const ss = seconds.toFixed(1).padStart(4, '0');
  return `${hours > 0 ? `${hours}h` : ''}${mm}m${ss}s`;
}

/** k6's first progress line: `running (00m05.0s), 02/10 VUs, 120 complete and 0 interrupted iterations`. */
export function progressHeader(s: ProgressSnapshot): string {
  const vus = String(s.vus).padStart(String(s.vusMax).length, '0');
  return (
    `running (${formatProgressDuration(s.elapsedMs)}), ${vus}/${s.vusMax} VUs, ` +
    `${s.iterationsCompleted} complete and ${s.iterationsInterrupted} interrupted iterations`
  );
}

/** The display's lines: the header, then one bar per scenario (full bars on a terminal, percentages otherwise). */
export function renderProgressLines(s: ProgressSnapshot, tty: boolean): string[] {
  const nameWidth = Math.max(0, ...s.scenarios.map((sc) => sc.name.length));
  const lines = [progressHeader(s)];
  for (const sc of s.scenarios) {
    const p = Math.min(1, Math.max(0, Number.isFinite(sc.progress) ? sc.progress : 0));
    const status = p >= 1 ? '✓' : ' ';
    const bar = tty ? fullBar(p) : `${String(Math.round(p * 100)).padStart(3)}% `;
    lines.push(`${sc.name.padEnd(nameWidth)} ${status} [${bar}] ${sc.label}`);
  }
  return lines;
}

/** The plain-text frame printed when stderr is not a terminal. */
export function renderProgressPlain(s: ProgressSnapshot): string {
  return renderProgressLines(s, false).join('\n');
}

function fullBar(p: number): string {
  const filled = Math.floor(p * BAR_WIDTH);
  if (filled >= BAR_WIDTH) return '='.repeat(BAR_WIDTH);
  return '='.repeat(filled) + '>' + '-'.repeat(BAR_WIDTH - filled - 1);
}
