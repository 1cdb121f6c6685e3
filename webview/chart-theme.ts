/**
 * The chart colours of the current VS Code theme: axes and labels in the theme's foreground, the
 * grid a faint tint of it (so it never outshines the labels), series in the theme's chart colours.
 * Canvas needs concrete colours, so each variable is resolved through a probe element; a theme
 * change (VS Code rewrites the variables on <html> and the body's theme class) is reported.
 */

/** The chart colour variables VS Code defines in every theme, with Dark+ fallbacks for a plain page. */
const SERIES_VARS = [
  ['--vscode-charts-blue', '#3794ff'],
  ['--vscode-charts-orange', '#d18616'],
  ['--vscode-charts-green', '#89d185'],
  ['--vscode-charts-purple', '#b180d7'],
  ['--vscode-charts-red', '#f14c4c'],
  ['--vscode-charts-yellow', '#cca700'],
] as const;

export interface ChartTheme {
  /** Axis lines, tick labels. */
  fg: string;
  grid: string;
  series: string[];
  /** Background the charts are drawn on (for exported images). */
  bg: string;
}

type Rgba = [number, number, number, number];

/** The computed colour of `value` (any CSS colour, variables included) as rgba components. */
function resolve(value: string): Rgba {
  const probe = document.createElement('span');
  probe.style.color = value;
  probe.hidden = true;
  document.body.append(probe);
  const computed = getComputedStyle(probe).color;
  probe.remove();
  const n = computed.match(/[\d.]+/g)?.map(Number) ?? [0, 0, 0];
  return [n[0] ?? 0, n[1] ?? 0, n[2] ?? 0, n[3] ?? 1];
}

const css = ([r, g, b, a]: Rgba): string => `rgba(${r}, ${g}, ${b}, ${a})`;

export function readChartTheme(): ChartTheme {
  const fg = resolve('var(--vscode-foreground, #cccccc)');
  const bg = resolve('var(--vscode-editor-background, #1f1f1f)');
  return {
    fg: css(fg),
    grid: css([fg[0], fg[1], fg[2], 0.15 * fg[3]]),
    series: SERIES_VARS.map(([v, f]) => css(resolve(`var(${v}, ${f})`))),
    bg: css(bg),
  };
}

/** Calls `changed` after VS Code switches theme; returns the unsubscribe. */
export function onThemeChange(changed: () => void): () => void {
  const observer = new MutationObserver(() => changed());
  observer.observe(document.documentElement, { attributes: true, attributeFilter: ['style', 'class'] });
  observer.observe(document.body, { attributes: true, attributeFilter: ['class', 'data-vscode-theme-kind'] });
  return () => observer.disconnect();
}
