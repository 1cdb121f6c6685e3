/** Pure iVGR logic: no vscode, no I/O. */
export * from './types';
export * from './regions';
