/** Pure iVGR logic: no vscode, no I/O. */
export * from './types';
export * from './regions';
export * from './boxes';
export * from './answers';
export * from './answer-strata';
export * from './trace';
export * from './rewards';
export * from './advantages';
export * from './stats';
export * from './score';
export * from './demo-findings';
