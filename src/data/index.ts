/** Datasets: the synthetic fine-grained benchmark and loaders for V*Bench, HR-Bench and JSONL. */
export { ensureSyntheticDataset, readManifest, type SynthOptions, type SyntheticManifest } from './synthetic/dataset';
export { GENERATOR_VERSION, SYNTHETIC_FAMILIES, generateItem, type SplitName } from './synthetic/generate';
export { loadDataset, DATASET_FORMATS, type DatasetFormat, type LoadedDataset, type LoadOptions } from './loaders/load';
export { resolveInside, PathEscapeError } from './loaders/resolve';
export { corpusLines } from './corpus';
export { summarize, formatSummary, type DatasetSummary } from './summary';
export { recordInputSchema, formatSkip, type Skip } from './record-schema';
