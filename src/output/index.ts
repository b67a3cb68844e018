export type {
  SummaryData,
  SummaryGroup,
  SummaryCheck,
  SummaryMetric,
  SummaryThreshold,
  SummaryOptions,
  SummaryState,
} from './summary-data.js';
export {
  textSummary,
  defaultSummaryOutput,
  humanizeValue,
  humanizeDuration,
  humanizeBytes,
  type TextSummaryOptions,
} from './text-summary.js';
export {
  summaryExport,
  summaryExportObject,
  type SummaryExport,
  type ExportedGroup,
  type ExportedCheck,
  type ExportedMetric,
} from './summary-export.js';
export { resolveHandleSummaryResult, isEmptySummaryResult, type SummaryIO } from './handle-summary.js';
export { type BufferOptions } from './buffered-writer.js';
export { JsonOutput, type JsonOutputOptions } from './json-output.js';
export { CsvOutput, CSV_HEADER, CSV_TAG_COLUMNS, type CsvOutputOptions, type CsvTimeFormat } from './csv-output.js';
export {
  parseOutputSpec,
  parseOutputSpecs,
  createOutput,
  supportedOutputTypes,
  type OutputSpec,
  type SampleOutput,
} from './output-spec.js';
export {
  Progress,
  formatProgressDuration,
  progressHeader,
  renderProgressLines,
  renderProgressPlain,
  type ProgressSnapshot,
  type ProgressOptions,
  type ProgressTimers,
} from './progress.js';
