/**
 * Closes the classic way out of the script sandbox: every function, including the host
 * objects that runtime modules hand to scripts (responses, errors, metrics), inherits
 * `constructor` from the host realm's Function.prototype, and `anyFunction.constructor('return
 * process')()` would compile code in the host realm. herd replaces that inherited property
 * (and those of the async and generator function prototypes) with a function that throws.
 * The sandbox realm keeps its own Function, so scripts may still use `new Function` there.
 *
 * This changes the host realm for the whole process, once; herd's own code and its
 * dependencies never reach `Function` through `.constructor`.
 */
let hardened = false;

/** Makes `fn.constructor(...)` unusable for code generation in the host realm (idempotent). */
export function hardenHostRealm(): void {
  if (hardened) return;
  hardened = true;
  const blocked = function Function(): never {
    throw new EvalError('code generation from strings is not available to herd scripts outside their sandbox');
  };
  const prototypes = [
    Function.prototype,
    Object.getPrototypeOf(async function () {}) as object,
    Object.getPrototypeOf(function* () {}) as object,
    Object.getPrototypeOf(async function* () {}) as object,
  ];
  for (const p of prototypes) {
    Object.defineProperty(p, 'constructor', { value: blocked, writable: false, enumerable: false, configurable: false });
  }
}
