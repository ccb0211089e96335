/** The in-process notifier: enough for one gatekeeper process (the embedded default). */
import { EventEmitter } from 'node:events';
import type { Notice, Notifier } from '../notifier.js';

export class MemoryNotifier implements Notifier {
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  async publish(topic: string, notice: Notice): Promise<void> {
    this.emitter.emit(topic, notice);
  }

  subscribe(topic: string, listener: (notice: Notice) => void): () => void {
    this.emitter.on(topic, listener);
    return () => this.emitter.off(topic, listener);
  }

  async close(): Promise<void> {
    this.emitter.removeAllListeners();
  }
}
