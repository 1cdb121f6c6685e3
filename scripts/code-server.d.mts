// Types for scripts/code-server.mjs, so the TypeScript e2e suite can use the recipe.
import type { ChildProcess } from 'node:child_process';

export const CODE_SERVER_VERSION: string;
export const installDir: string;
export const DEBIAN_PACKAGES: readonly string[];

export function codeServerEntry(): string | null;
export function installCodeServer(): string;
export function freePort(): Promise<number>;
export function installExtension(opts: { vsix: string; extensionsDir: string; userDataDir: string }): void;

export interface CodeServer {
  /** Opens the started folder in the browser. */
  url: string;
  port: number;
  child: ChildProcess;
  stop(): Promise<void>;
  /** Everything code-server printed so far. */
  output(): string;
}

export function startCodeServer(opts: {
  folder: string;
  userDataDir: string;
  extensionsDir: string;
  port?: number;
  env?: Record<string, string>;
  log?: (text: string) => void;
}): Promise<CodeServer>;
