import { HerdError } from '../errors/index.js';
import type { RuntimeModule } from '../runtime/vu-state.js';
import type { VU } from './vu.js';

/** What every VU's globals of one engine share. */
export interface GlobalsHost {
  readonly console: Record<string, (...args: unknown[]) => void>;
  /** k6's open(), resolved against `baseDir` (the calling file's folder) when given. */
  open(file: string, mode: string | undefined, baseDir: string | undefined): string | ArrayBuffer;
  /** The k6/timers module, whose functions k6 (v0.50+) also offers as globals. */
  readonly timers: RuntimeModule;
}

type Fn = (...a: unknown[]) => unknown;

const TIMER_NAMES = ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] as const;

/**
 * The script's free globals for one VU (__ENV, __VU, __ITER, open, console and the timer
 * functions), read by the sandbox's scope object at each access. Values are getters on the
 * class, so a VU pays for one small object; the functions that must know their VU are made on
 * first read and then kept. An object literal of getters and closures cost every VU about a
 * dozen closures and their accessor pairs, most of which a script never touches.
 */
export class VuGlobals {
  // ES private names: the sandbox finds a script's free globals with `name in globals`, so
  // nothing but the globals themselves may be reachable by a string name here.
  readonly #vu: VU;
  readonly #host: GlobalsHost;

  constructor(vu: VU, host: GlobalsHost) {
    this.#vu = vu;
    this.#host = host;
  }

  get __ENV(): Record<string, string> {
    return this.#vu.env;
  }

  get __VU(): number {
    return this.#vu.state.idInTest;
  }

  get __ITER(): number {
    return this.#vu.state.iteration;
  }

  get console(): Record<string, (...args: unknown[]) => void> {
    return this.#host.console;
  }

  set open(v: Fn) {
    this.#keep('open', v);
  }

  get open(): Fn {
    const state = this.#vu.state;
    const host = this.#host;
    return this.#keep('open', (file: unknown, mode?: unknown, baseDir?: unknown) => {
      if (state.phase !== 'init') {
        throw new HerdError('init_context_only', 'open() can only be called in the init context', {
          hint: 'read files at the top level of the script and keep the content in a variable',
        });
      }
      return host.open(String(file), mode === undefined ? undefined : String(mode), baseDir === undefined ? undefined : String(baseDir));
    });
  }

  // The timer globals: accessors like open's, installed by name since all four are alike.
  static {
    for (const name of TIMER_NAMES) {
      Object.defineProperty(VuGlobals.prototype, name, {
        get(this: VuGlobals): Fn {
          this.#keepTimers();
          return (this as unknown as Record<string, Fn>)[name] as Fn;
        },
        set(this: VuGlobals, v: Fn) {
          this.#keep(name, v);
        },
        configurable: true,
      });
    }
  }

  /** On the first read of any timer global: one k6/timers instance gives all four (timers live in the VU's state, so an imported k6/timers shares them). */
  #keepTimers(): void {
    const timers = this.#host.timers.instantiate(this.#vu.state);
    for (const name of TIMER_NAMES) if (!Object.hasOwn(this, name)) this.#keep(name, timers[name] as Fn);
  }

  /** Makes `value` this VU's own `name`, so later reads skip the getter. */
  #keep(name: string, value: Fn): Fn {
    Object.defineProperty(this, name, { value, writable: true, configurable: true, enumerable: true });
    return value;
  }
}
