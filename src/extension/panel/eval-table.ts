/**
 * What the panel's evaluation table gets from the host: the summary rows, named by dataset in a
 * run with several, and the samples behind one cell. No vscode, so the panel harness answers
 * with the same code.
 */
import type { HostMessage, PanelMessage } from '../../core/protocol/webview';
import type { EvalRecord, EvalSummaryRow } from '../../core/types';
import type { RunFiles } from '../run-files';

type EvalSummaryMessage = Extract<HostMessage, { type: 'evalSummary' }>;
type EvalSamplesRequest = Extract<PanelMessage, { type: 'evalSamples' }>;

/** The table's rows; `byDataset` only when the run has several datasets, so a one-dataset run's table stays as it was. */
export function evalSummaryMessage(rows: EvalSummaryRow[], files: Pick<RunFiles, 'datasets'>): EvalSummaryMessage {
  return { type: 'evalSummary', rows, ...(files.datasets.length > 1 ? { byDataset: true as const } : {}) };
}

/** The samples of the asked cell: its checkpoint and mode, and its engine and dataset (null: the full evaluation) when given. */
export function cellSamples(
  records: readonly EvalRecord[],
  cell: Pick<EvalSamplesRequest, 'checkpoint' | 'mode' | 'engine' | 'dataset'>,
): EvalRecord[] {
  return records.filter(
    (e) =>
      e.checkpoint === cell.checkpoint &&
      e.mode === cell.mode &&
      (cell.engine === undefined || e.engine === cell.engine) &&
      (cell.dataset === undefined || (e.dataset ?? null) === cell.dataset),
  );
}
