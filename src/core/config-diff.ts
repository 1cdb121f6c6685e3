/** The fields in which run configs differ, as dotted paths with each run's value (JSON text, "–" when absent). */

function flatten(o: unknown, prefix: string, out: Map<string, string>): Map<string, string> {
  if (o !== null && typeof o === 'object' && !Array.isArray(o)) {
    for (const [k, v] of Object.entries(o)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else out.set(prefix, JSON.stringify(o));
  return out;
}

export interface ConfigDifference {
  field: string;
  /** One value per config, in order. */
  values: string[];
}

/** Fields whose values are not the same in every config (the run's name always differs and is left out). */
export function configDifferences(configs: readonly Record<string, unknown>[]): ConfigDifference[] {
  const flat = configs.map((c) => flatten(c, '', new Map()));
  const fields = [...new Set(flat.flatMap((f) => [...f.keys()]))].sort();
  return fields
    .filter((k) => k !== 'name' && new Set(flat.map((f) => f.get(k) ?? '–')).size > 1)
    .map((field) => ({ field, values: flat.map((f) => f.get(field) ?? '–') }));
}

/**
 * Orders checkpoint names by training step: "sft" (the warm start) and other names without a step
 * first, then "step-6" / "6" by their number.
 */
export function checkpointOrder(a: string, b: string): number {
  const step = (c: string): number => Number(/(\d+)$/.exec(c)?.[1] ?? -1);
  return step(a) - step(b) || a.localeCompare(b);
}
