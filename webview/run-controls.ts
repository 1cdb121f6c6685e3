/**
 * The header's Pause, Resume and Stop: each enabled only while it acts on the run in its current
 * state, as the host decides (`status.controls`; none for an imported run, only Stop for a
 * followed import). A click disables all three until the next status, so one click sends one
 * command.
 */
import type { PanelStatus } from '../src/core/protocol/webview';
import type { Host } from './host';
import { h } from './dom';
import * as ui from './ui/index';

type Action = NonNullable<PanelStatus['controls']>[number];

const TITLES: Record<Action, string> = {
  pause: 'Pauses after the current step',
  resume: 'Continues the run (a stopped or crashed run from its latest checkpoint)',
  stop: 'Stops after the current step, with a checkpoint',
};

export class RunControls {
  readonly element: HTMLElement;
  private readonly buttons: Record<Action, HTMLElement>;

  constructor(host: Host) {
    const make = (action: Action, label: string): HTMLElement =>
      ui.button(
        label,
        () => {
          this.enable([]);
          host.post({ type: 'control', action });
        },
        { secondary: true, id: `control-${action}`, title: TITLES[action] },
      );
    this.buttons = { pause: make('pause', 'Pause'), resume: make('resume', 'Resume'), stop: make('stop', 'Stop') };
    this.element = h('span', { class: 'controls' }, this.buttons.pause, this.buttons.resume, this.buttons.stop);
    this.enable([]);
  }

  setStatus(status: PanelStatus): void {
    this.enable(status.controls ?? []);
  }

  private enable(actions: readonly Action[]): void {
    for (const [action, b] of Object.entries(this.buttons) as [Action, HTMLElement][]) ui.setDisabled(b, !actions.includes(action));
  }
}
