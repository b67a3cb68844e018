import type { SummaryData, SummaryGroup } from './summary-data.js';

/*
 * k6's legacy `--summary-export` file, kept for tools that read the pre-handleSummary format:
 * the handleSummary data without `options` and `state`, each metric flattened to its values
 * (a rate's `rate` renamed `value`), thresholds as `{ source: failed }` (note: true means the
 * threshold FAILED), and groups and checks keyed by name instead of listed. Indented by 4.
 */

/** A check in the legacy export. */
export interface ExportedCheck {
  name: string;
  path: string;
  id: string;
  passes: number;
  fails: number;
}

/** A group in the legacy export: sub-groups and checks keyed by name. */
export interface ExportedGroup {
  name: string;
  path: string;
  id: string;
  groups: Record<string, ExportedGroup>;
  checks: Record<string, ExportedCheck>;
}

/** A metric in the legacy export: its values, plus `thresholds` when it has any. */
export type ExportedMetric = Record<string, number | Record<string, boolean>>;

/** The whole legacy export document. */
export interface SummaryExport {
  root_group: ExportedGroup;
  metrics: Record<string, ExportedMetric>;
  setup_data?: unknown;
}

/** Builds the legacy export document of `data`. */
export function summaryExportObject(data: SummaryData): SummaryExport {
  const metrics: Record<string, ExportedMetric> = {};
  for (const [name, metric] of Object.entries(data.metrics)) {
    const out: ExportedMetric = { ...metric.values };
    if (metric.thresholds !== undefined && Object.keys(metric.thresholds).length > 0) {
      const failed: Record<string, boolean> = {};
      for (const [source, t] of Object.entries(metric.thresholds)) failed[source] = !t.ok;
      out['thresholds'] = failed;
    }
    if (metric.type === 'rate' && 'rate' in metric.values) {
      // k6 appends `value` and drops `rate`, so `value` comes last in the file.
      const rate = metric.values['rate'] as number;
      delete out['rate'];
      out['value'] = rate;
    }
    metrics[name] = out;
  }
  // Key order follows k6's data object: root_group, metrics, setup_data.
  const doc: SummaryExport = { root_group: exportGroup(data.root_group), metrics };
  if ('setup_data' in data) doc.setup_data = data.setup_data;
  return doc;
}

/** k6's legacy `--summary-export` JSON text of `data`. */
export function summaryExport(data: SummaryData): string {
  return JSON.stringify(summaryExportObject(data), null, 4);
}

function exportGroup(group: SummaryGroup): ExportedGroup {
  const groups: Record<string, ExportedGroup> = {};
  for (const g of group.groups) groups[g.name] = exportGroup(g);
  const checks: Record<string, ExportedCheck> = {};
  for (const c of group.checks) {
    checks[c.name] = { name: c.name, path: c.path, id: c.id, passes: c.passes, fails: c.fails };
  }
  return { name: group.name, path: group.path, id: group.id, groups, checks };
}
