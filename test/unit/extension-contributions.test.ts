// package.json's contributions as a user meets them: the palette, the Runs view's menus and the
// settings, checked against what the extension really registers, produces and reads.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fake } from './fakes/use-fake-vscode';
import { evaluateWhen, whenKeys, type WhenContext } from './helpers/when-clause';
import {
  allowedActions,
  groupChildren,
  PROCESS_ACTIONS,
  runNode,
  type RunAction,
  type RunView,
  type TreeNode,
} from '../../src/extension/run-display';
import type { RunStatus } from '../../src/core/types';
import type { RunRegistry } from '../../src/extension/run-registry';
import type { Services } from '../../src/extension/commands';

const { registerCommands } = await import('../../src/extension/commands');
const { RunsTree } = await import('../../src/extension/runs-tree');
const { readSettings } = await import('../../src/extension/settings');

interface MenuEntry {
  command: string;
  when?: string;
  group?: string;
}
interface Setting {
  type: string;
  default?: unknown;
}
interface Manifest {
  contributes: {
    commands: Array<{ command: string; title?: string; category?: string }>;
    menus: Record<string, MenuEntry[]>;
    views: Record<string, Array<{ id: string }>>;
    viewsWelcome: Array<{ contents: string }>;
    configuration: { properties: Record<string, Setting> };
  };
}

const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as Manifest;
const { commands, menus, configuration } = manifest.contributes;
const declared = new Set(commands.map((c) => c.command));
const palette = new Map((menus.commandPalette ?? []).map((m) => [m.command, m.when]));

/** Context keys the extension sets (extension.ts), all true or all false. */
const extensionKeys = [
  ...readFileSync(new URL('../../src/extension/extension.ts', import.meta.url), 'utf8').matchAll(/'setContext',\s*'([\w.]+)'/g),
].map((m) => m[1]!);
const allKeys = (v: boolean): WhenContext => Object.fromEntries(extensionKeys.map((k) => [k, v]));
const paletteShows = (id: string, ctx: WhenContext): boolean => {
  const when = palette.get(id);
  return when === undefined || evaluateWhen(when, ctx);
};

/** Which command each run action of the Runs view goes through. */
const ACTION_COMMAND: Record<RunAction, string> = {
  pause: 'ivgr.pauseRun',
  resume: 'ivgr.resumeRun',
  restart: 'ivgr.resumeRun',
  stop: 'ivgr.stopRun',
  evaluate: 'ivgr.evaluateCheckpoint',
  open: 'ivgr.openRun',
  log: 'ivgr.openRunLog',
  export: 'ivgr.exportAnnotations',
};

const STATUSES: RunStatus[] = ['created', 'running', 'paused', 'stopped', 'crashed', 'finished'];
const views: RunView[] = STATUSES.flatMap((status) =>
  [false, true].flatMap((imported) =>
    [[], [10, 20]].map((checkpoints) => ({
      id: `${status}-${imported}-${checkpoints.length}`,
      dir: `/runs/${status}-${imported}-${checkpoints.length}`,
      name: null,
      status,
      step: 20,
      totalSteps: 40,
      phase: null,
      reward: {},
      checkpoints,
      evals: [
        {
          checkpoint: 'step-20',
          mode: 'textual' as const,
          engine: 'torch',
          n: 4,
          accuracy: 0.5,
          ciLow: 0.2,
          ciHigh: 0.8,
          meanIou: null,
          hitRate: null,
        },
      ],
      lastLog: [],
      imported,
      attached: false,
    })),
  ),
);

// Tree items exactly as the Runs view builds them.
const registry = {
  on: () => () => undefined,
  get: (dir: string) => views.find((v) => v.dir === dir),
  all: () => views,
} as unknown as RunRegistry;
const tree = new RunsTree(registry);
const items = views.flatMap((run) => {
  const nodes: TreeNode[] = [runNode(run), ...groupChildren(run, 'checkpoints'), ...groupChildren(run, 'evaluations')];
  return nodes.map((node) => ({ run, node, contextValue: tree.getTreeItem(node).contextValue }));
});
const itemMenu = menus['view/item/context'] ?? [];
const commandsOn = (contextValue: string | undefined, trusted: boolean): Set<string> =>
  new Set(
    itemMenu
      .filter(
        (m) => m.when !== undefined && evaluateWhen(m.when, { view: 'ivgr.runs', viewItem: contextValue, isWorkspaceTrusted: trusted }),
      )
      .map((m) => m.command),
  );

describe('contributed commands', () => {
  it('each has the iVGR category and a title, and each is registered by the extension and no other', () => {
    for (const c of commands) {
      assert.equal(c.category, 'iVGR', `${c.command} category`);
      assert.ok(c.title && c.title.trim() !== '', `${c.command} has a title`);
    }
    fake.reset();
    registerCommands({} as Services);
    assert.deepEqual([...fake.handlers.keys()].sort(), [...declared].sort());
  });

  it('every menu entry and welcome link names a declared command, and views are declared ones', () => {
    for (const [menu, entries] of Object.entries(menus))
      for (const m of entries) assert.ok(declared.has(m.command), `${menu}: ${m.command} is declared`);
    for (const w of manifest.contributes.viewsWelcome)
      for (const [, id] of w.contents.matchAll(/\(command:(ivgr\.\w+)\)/g)) assert.ok(declared.has(id!), `welcome link ${id}`);
    const viewIds = new Set(
      Object.values(manifest.contributes.views)
        .flat()
        .map((v) => v.id),
    );
    for (const entries of Object.values(menus))
      for (const m of entries)
        for (const [, id] of (m.when ?? '').matchAll(/\bview == ([\w.]+)/g)) assert.ok(viewIds.has(id!), `${m.command}: view ${id}`);
  });

  it('when clauses use only context keys the extension sets or VS Code provides', () => {
    const builtIn = new Set(['view', 'viewItem', 'isWorkspaceTrusted']);
    for (const entries of Object.values(menus))
      for (const m of entries)
        for (const k of whenKeys(m.when ?? ''))
          assert.ok(builtIn.has(k) || extensionKeys.includes(k), `${m.command}: "${k}" in "${m.when}" is never set`);
  });
});

describe('command palette', () => {
  it('hides what needs a run until there is one', () => {
    const none = { ...allKeys(false), isWorkspaceTrusted: true };
    const shown = [...declared].filter((id) => paletteShows(id, none)).sort();
    assert.deepEqual(shown, ['ivgr.importDump', 'ivgr.openRun', 'ivgr.refreshRuns', 'ivgr.startRun']);
    // Compare Runs needs two runs, not one.
    assert.equal(paletteShows('ivgr.compareRuns', { ...allKeys(false), 'ivgr.hasRuns': true, isWorkspaceTrusted: true }), false);
  });

  it('hides what starts a process in an untrusted workspace', () => {
    const untrusted = { ...allKeys(true), isWorkspaceTrusted: false };
    for (const id of ['ivgr.startRun', 'ivgr.importDump', 'ivgr.evaluateCheckpoint']) assert.equal(paletteShows(id, untrusted), false, id);
    // Resume restarts a stopped or crashed run (a process) but only messages a paused one.
    assert.equal(
      paletteShows('ivgr.resumeRun', {
        ...allKeys(false),
        'ivgr.hasRuns': true,
        'ivgr.hasRestartableRun': true,
        isWorkspaceTrusted: false,
      }),
      false,
    );
    assert.equal(
      paletteShows('ivgr.resumeRun', { ...allKeys(false), 'ivgr.hasRuns': true, 'ivgr.hasPausedRun': true, isWorkspaceTrusted: false }),
      true,
    );
    for (const id of ['ivgr.openRun', 'ivgr.exportAnnotations', 'ivgr.openRunLog', 'ivgr.pauseRun', 'ivgr.stopRun'])
      assert.equal(paletteShows(id, untrusted), true, id);
  });
});

describe('Runs view menus', () => {
  it('every item menu entry matches some item the Runs view produces', () => {
    for (const m of itemMenu) {
      assert.ok(m.when, `${m.command} has a when clause`);
      assert.ok(
        items.some((i) => evaluateWhen(m.when!, { view: 'ivgr.runs', viewItem: i.contextValue, isWorkspaceTrusted: true })),
        `${m.command} "${m.when}" matches no tree item`,
      );
    }
  });

  it("a run's menu offers exactly the actions its state allows, without process starts when untrusted", () => {
    for (const { run, node, contextValue } of items.filter((i) => i.node.kind === 'run')) {
      const actions = allowedActions(run);
      const expected = (trusted: boolean) =>
        new Set(actions.filter((a) => trusted || !PROCESS_ACTIONS.has(a)).map((a) => ACTION_COMMAND[a]));
      assert.deepEqual(commandsOn(contextValue, true), expected(true), `${node.id} (${contextValue}), trusted`);
      assert.deepEqual(commandsOn(contextValue, false), expected(false), `${node.id} (${contextValue}), untrusted`);
    }
  });

  it('a checkpoint offers Evaluate only on a trainable run in a trusted workspace', () => {
    for (const { run, node, contextValue } of items.filter((i) => i.node.kind === 'checkpoint')) {
      assert.deepEqual([...commandsOn(contextValue, true)], run.imported ? [] : ['ivgr.evaluateCheckpoint'], `${node.id} trusted`);
      assert.deepEqual([...commandsOn(contextValue, false)], [], `${node.id} untrusted`);
    }
    for (const { node, contextValue } of items.filter((i) => i.node.kind === 'evaluation' || i.node.kind === 'group'))
      assert.deepEqual([...commandsOn(contextValue, true)], [], node.id);
  });
});

describe('settings', () => {
  const typeOk = (type: string, v: unknown): boolean =>
    type === 'array'
      ? Array.isArray(v)
      : type === 'integer'
        ? Number.isInteger(v)
        : type === 'object'
          ? v !== null && typeof v === 'object' && !Array.isArray(v)
          : typeof v === type;

  it('every key the extension reads is declared, with a default of its type that the code falls back to', () => {
    fake.reset();
    readSettings();
    const reads = new Map(fake.settingReads.map((r) => [r.key, r.fallback]));
    assert.ok(reads.size > 0);
    for (const [key, fallback] of reads) {
      const s = configuration.properties[key];
      assert.ok(s, `${key} is read but not declared in contributes.configuration`);
      assert.ok('default' in s, `${key} has a default`);
      assert.ok(typeOk(s.type, s.default), `${key}: default ${JSON.stringify(s.default)} is not of type ${s.type}`);
      assert.deepEqual(fallback, s.default, `${key}: the code falls back to the declared default`);
    }
    assert.deepEqual(
      Object.keys(configuration.properties).filter((k) => !reads.has(k)),
      [],
      'every declared setting is read',
    );
  });
});
