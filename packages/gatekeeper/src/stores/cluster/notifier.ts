/**
 * The notifier of `serve --workers N`: each worker process delivers its own notices at once (like the memory
 * notifier) and sends them to the primary, which relays them to every other worker (`relayNotices`). So a verdict
 * given on the console served by one worker wakes the request held on another.
 */
import { EventEmitter } from 'node:events';
import type { Notice, Notifier } from '../notifier.js';

/** The message a notice travels in between processes. */
export interface NoticeMessage {
  gatekeeperNotice: { topic: string; notice: Notice };
}

/** One end of the IPC channel to the primary (`process` in a cluster worker). */
export interface NoticeChannel {
  send(message: NoticeMessage): unknown;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  off(event: 'message', listener: (message: unknown) => void): unknown;
}

export function isNoticeMessage(message: unknown): message is NoticeMessage {
  return typeof message === 'object' && message !== null && 'gatekeeperNotice' in message;
}

export class ClusterNotifier implements Notifier {
  private readonly emitter = new EventEmitter();
  private readonly onMessage = (message: unknown) => {
    if (isNoticeMessage(message)) this.emitter.emit(message.gatekeeperNotice.topic, message.gatekeeperNotice.notice);
  };

  /** In a cluster worker: the IPC channel to the primary. */
  static ofWorkerProcess(): ClusterNotifier {
    return new ClusterNotifier({ send: (m) => process.send!(m), on: (e, l) => process.on(e, l), off: (e, l) => process.off(e, l) });
  }

  constructor(private readonly channel: NoticeChannel) {
    this.emitter.setMaxListeners(0);
    channel.on('message', this.onMessage);
  }

  async publish(topic: string, notice: Notice): Promise<void> {
    this.emitter.emit(topic, notice);
    this.channel.send({ gatekeeperNotice: { topic, notice } });
  }

  subscribe(topic: string, listener: (notice: Notice) => void): () => void {
    this.emitter.on(topic, listener);
    return () => this.emitter.off(topic, listener);
  }

  async close(): Promise<void> {
    this.channel.off('message', this.onMessage);
    this.emitter.removeAllListeners();
  }
}

/** The primary's side: every notice one worker sends goes to all the others. */
export function relayNotices(from: { send(message: NoticeMessage): unknown }, message: unknown, to: Iterable<{ send(message: NoticeMessage): unknown }>): void {
  if (!isNoticeMessage(message)) return;
  for (const worker of to) if (worker !== from) worker.send(message);
}
