// How a run executed outside herd (`k6 run --out cloud`) is recognised from its stored row, with
// no migration: its options carry `ext.herd.execution = "external"`. herd's own runs take their
// options from their archive, and the archive herd stores for an external run never carries the
// marker, so re-running that archive in herd makes an ordinary run.

/** The value of `options.ext.herd.execution` on a run that k6 executes itself. */
export const EXTERNAL_EXECUTION = 'external';

/** The part of the options that marks a run as external, merged into its stored options. */
export function externalMarker(via: string): { ext: { herd: { execution: typeof EXTERNAL_EXECUTION; via: string } } } {
  return { ext: { herd: { execution: EXTERNAL_EXECUTION, via } } };
}

/**
 * True when the run is executed outside herd: no load generator holds it, k6 pushes its metrics
 * to `/v2/metrics/{id}` and ends it with `POST /v1/tests/{id}`. A restarted control plane must
 * leave such a run alone (ExternalRuns keeps timing it out).
 */
export function isExternalRun(run: { readonly options: Readonly<Record<string, unknown>> }): boolean {
  const ext = run.options['ext'];
  if (typeof ext !== 'object' || ext === null) return false;
  const herd = (ext as Record<string, unknown>)['herd'];
  if (typeof herd !== 'object' || herd === null) return false;
  return (herd as Record<string, unknown>)['execution'] === EXTERNAL_EXECUTION;
}
