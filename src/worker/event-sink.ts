/**
 * The run's event files plus their live stream: records are appended to
 * events/<file>.jsonl, flushed (fsync) once per step, and only then broadcast
 * to control clients with their byte offsets, so a client never sees a record
 * the file does not hold.
 */
import type { EventFile } from '../run/run-dir';
import { runPaths } from '../run/run-dir';
import { JsonlWriter } from '../run/jsonl-writer';

export type EventListener = (file: EventFile, offset: number, record: object) => void;

export class EventSink {
  private writers = new Map<EventFile, JsonlWriter>();
  private pending: Array<{ file: EventFile; offset: number; record: object }> = [];

  constructor(
    private readonly runDir: string,
    private readonly listener: EventListener = () => {},
  ) {}

  private writer(file: EventFile): JsonlWriter {
    let w = this.writers.get(file);
    if (!w) {
      w = new JsonlWriter(runPaths(this.runDir).event(file));
      this.writers.set(file, w);
    }
    return w;
  }

  append(file: EventFile, record: object): void {
    const offset = this.writer(file).append(record);
    this.pending.push({ file, offset, record });
  }

  flush(): void {
    for (const w of this.writers.values()) w.flush();
    const sent = this.pending;
    this.pending = [];
    for (const e of sent) this.listener(e.file, e.offset, e.record);
  }

  close(): void {
    this.flush();
    for (const w of this.writers.values()) w.close();
    this.writers.clear();
  }
}
