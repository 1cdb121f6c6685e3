/**
 * Makes `import ... from 'vscode'` load ./vscode.ts. Import this first, then load extension
 * modules with a dynamic `import()` (static imports are resolved before any hook is in place).
 */
import { register } from 'node:module';

register('./vscode-hooks.mjs', import.meta.url);

export { fake } from './vscode';
