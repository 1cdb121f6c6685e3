/**
 * Reads a run config from JSON or YAML text and validates it. Errors name the
 * file, the field path, what was expected and, for YAML and JSON, the line.
 */
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { LineCounter, parseDocument, isNode } from 'yaml';
import type { z } from 'zod';
import { runConfigSchema, type RunConfig } from './config-schema';

export class ConfigError extends Error {}

export interface LoadedConfig {
  /** The config exactly as written (parsed), for run.json. */
  given: unknown;
  resolved: RunConfig;
}

/** Parses and validates run config text. `file` is only used in messages and to pick the syntax (.json vs YAML). */
export function parseConfigText(text: string, file: string): LoadedConfig {
  return parseConfigWith(runConfigSchema, text, file);
}

/** Parses config text against `schema`, with the same file:line messages as a run config. */
export function parseConfigWith<S extends z.ZodType>(schema: S, text: string, file: string): { given: unknown; resolved: z.output<S> } {
  if (file.endsWith('.json')) checkJsonSyntax(text, file);
  // YAML is a superset of JSON, so one parser serves both and gives line numbers for either.
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const line = e.linePos?.[0]?.line;
    throw new ConfigError(
      `${file}${line ? `:${line}` : ''}: not valid ${file.endsWith('.json') ? 'JSON' : 'YAML'}: ${e.message.split('\n')[0]}`,
    );
  }
  const given: unknown = doc.toJS() ?? {};
  if (typeof given !== 'object' || given === null || Array.isArray(given)) {
    throw new ConfigError(`${file}: expected a mapping of config fields at the top level`);
  }
  const r = schema.safeParse(given);
  if (!r.success) {
    const messages = r.error.issues.slice(0, 5).map((issue) => {
      // An unknown key is reported on its parent; point at the key itself.
      const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
      const path = [...issue.path, ...(keys.length > 0 ? [keys[0]!] : [])].map((p) => (typeof p === 'symbol' ? String(p) : p));
      const node = doc.getIn(path, true);
      let where = file;
      if (isNode(node) && node.range) where += `:${lineCounter.linePos(node.range[0]).line}`;
      else if (keys.length > 0) {
        const parent = issue.path.length > 0 ? doc.getIn(issue.path as Array<string | number>, true) : doc.contents;
        if (isNode(parent) && parent.range) where += `:${lineCounter.linePos(parent.range[0]).line}`;
      }
      const field = path.length > 0 ? path.join('.') : '(top level)';
      const what = issue.code === 'unrecognized_keys' ? `unknown field (known: ${knownKeys(schema, issue.path)})` : issue.message;
      return `${where}: ${field}: ${what}`;
    });
    throw new ConfigError(messages.join('\n'));
  }
  return { given, resolved: r.data };
}

/** YAML accepts things JSON does not (`"seed": }` is null there); a .json file must be strict JSON. */
function checkJsonSyntax(text: string, file: string): void {
  try {
    JSON.parse(text);
  } catch (err) {
    const msg = (err as Error).message;
    // Node reports either a position or an excerpt around the bad token, depending on the version.
    const pos = /position (\d+)/.exec(msg);
    const excerpt = /"(?:\.\.\.)?([\s\S]*?)(?:\.\.\.)?" is not valid JSON/.exec(msg)?.[1];
    const at = pos ? Number(pos[1]) : excerpt ? text.indexOf(excerpt) + Math.floor(excerpt.length / 2) : -1;
    const line = at >= 0 ? text.slice(0, at).split('\n').length : undefined;
    throw new ConfigError(`${file}${line ? `:${line}` : ''}: not valid JSON: ${msg}`);
  }
}

function knownKeys(schema: z.ZodType, path: PropertyKey[]): string {
  let shape: unknown = schema;
  for (const p of path) {
    const s = unwrap(shape);
    const fields = (s as { shape?: Record<string, unknown> }).shape;
    // A list index steps into the list's element schema.
    shape =
      typeof p === 'number'
        ? (s as { def?: { element?: unknown } } | undefined)?.def?.element
        : fields && typeof p === 'string'
          ? fields[p]
          : undefined;
  }
  const fields = (unwrap(shape) as { shape?: Record<string, unknown> } | undefined)?.shape;
  return fields ? Object.keys(fields).join(', ') : '?';
}

function unwrap(schema: unknown): unknown {
  // Defaults and optionals wrap an inner type; a transform is a pipe from its input schema.
  let s = schema as { def?: { innerType?: unknown; in?: unknown } } | undefined;
  while (s?.def?.innerType || s?.def?.in) s = (s.def.innerType ?? s.def.in) as typeof s;
  return s;
}

export function loadConfigFile(file: string): LoadedConfig {
  return parseConfigText(readConfigText(file), file);
}

export function readConfigText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${file}: cannot read config: ${(err as Error).message}`);
  }
}

/** Stable hash of a resolved config; a checkpoint records it so a resume with a changed config is noticed. */
export function configHash(config: RunConfig): string {
  return createHash('sha256').update(stableStringify(config)).digest('hex').slice(0, 16);
}

function stableStringify(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableStringify).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableStringify(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}
