/** `ivgr import <dump.jsonl> --out <run>`: converts a verl or TRL rollout dump into a run directory. */
import { readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { parseCommandArgs, printedHelp } from '../args';
import { CliError, type Command } from '../cli-error';
import { convertRows, parseDumpLine, type DumpFormat, type DumpRow } from '../../run/import-dump';
import { createRunDir, updateRunJson } from '../../run/run-dir';
import { runConfigSchema } from '../../run/config-schema';
import { JsonlWriter } from '../../run/jsonl-writer';
import { runPaths } from '../../run/run-dir';

const USAGE = `usage: ivgr import <dump.jsonl> --out <run>

Converts an external rollout dump into a run folder the panel can open:
verl generation dumps (input, output, score, step) or TRL GRPO completions
logs (prompt, completion, reward columns or rewards, step, advantage).`;

export const importCommand: Command = {
  summary: 'convert a verl / TRL rollout dump into a run folder',
  async run(args) {
    const { values, positionals } = parseCommandArgs({ args, allowPositionals: true, options: { out: { type: 'string' }, help: { type: 'boolean', short: 'h', default: false } } }, USAGE);
    if (printedHelp(values.help, USAGE)) return 0;
    const file = positionals[0];
    if (!file || !values.out) throw new CliError(`expected a dump file and --out\n\n${USAGE}`);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new CliError(`${file}: ${(err as Error).message}`);
    }
    const rows: DumpRow[] = [];
    const formats = new Set<DumpFormat>();
    const lines = text.split('\n');
    let last = lines.length - 1;
    while (last > 0 && lines[last]!.trim() === '') last--;
    let torn: number | null = null;
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!.trim();
      if (!line) continue;
      let obj: unknown;
      try {
        obj = JSON.parse(line);
      } catch {
        // A torn last line is expected from a dump cut short; anything else is an error.
        if (i === last) {
          torn = i + 1;
          continue;
        }
        throw new CliError(`${file}:${i + 1}: not valid JSON`);
      }
      try {
        const { row, format } = parseDumpLine(obj, i + 1, file);
        rows.push(row);
        formats.add(format);
      } catch (err) {
        throw new CliError((err as Error).message);
      }
    }
    if (rows.length === 0) throw new CliError(`${file}: no rollouts found`);
    const out = resolve(values.out);
    const config = runConfigSchema.parse({ steps: Math.max(...rows.map((r) => r.step)) });
    try {
      createRunDir(out, { id: basename(out), given: { importedFrom: resolve(file), formats: [...formats] }, config, engine: 'import' });
    } catch (err) {
      throw new CliError((err as Error).message);
    }
    const { rollouts, metrics } = convertRows(rows, Date.now());
    const w = new JsonlWriter(runPaths(out).event('rollouts'));
    for (const r of rollouts) w.append(r);
    w.close();
    const m = new JsonlWriter(runPaths(out).event('metrics'));
    for (const r of metrics) m.append(r);
    m.close();
    updateRunJson(out, { status: 'finished', step: config.steps });
    process.stderr.write(`imported ${rollouts.length} rollouts over ${metrics.length} steps (${[...formats].join(', ')})${torn !== null ? `; skipped the torn last line ${file}:${torn}` : ''}\n`);
    process.stdout.write(`${out}\n`);
    return 0;
  },
};
