/** JSON logs with pino, written asynchronously so logging never blocks a decision. */
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string): Logger {
  if (level === 'silent') return pino({ level });
  return pino({ level, base: { service: 'gatekeeper' } }, pino.destination({ sync: false, minLength: 4096 }));
}
