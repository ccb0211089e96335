/**
 * Server-sent events, read incrementally from a byte stream.
 *
 * Event boundaries are found on bytes, not text: every SSE delimiter is ASCII, so an event's bytes are
 * complete UTF-8 once its terminating blank line has arrived, however the transport split them (inside a
 * multi-byte character, inside a `data:` line, between `\r` and `\n`). Each event keeps its raw bytes so a
 * proxy can forward events it does not change without re-encoding them.
 */

export interface SseEvent {
  /** `event:` field; undefined when absent (the spec's default type "message"). */
  event?: string;
  /** `data:` lines joined with '\n'. */
  data: string;
  id?: string;
  /** The exact bytes of the event, terminating blank line included. */
  raw: Uint8Array;
}

const LF = 0x0a;
const CR = 0x0d;
const decoder = new TextDecoder('utf-8');

export class SseParser {
  private buf: Uint8Array = new Uint8Array(0);
  /** Where the current (incomplete) event starts in `buf`. */
  private eventStart = 0;
  /** Where scanning resumes in `buf`. */
  private scan = 0;
  /** Where the current line starts in `buf`. */
  private lineStart = 0;
  /** The last byte seen was a CR: an LF right after it belongs to the same line break. */
  private afterCR = false;

  /** Feeds bytes and returns every event completed by them, in order. */
  push(chunk: Uint8Array): SseEvent[] {
    this.append(chunk);
    const events: SseEvent[] = [];
    const buf = this.buf;
    let i = this.scan;
    while (i < buf.length) {
      const b = buf[i]!;
      if (b === LF && this.afterCR) {
        // Second half of a CRLF split across chunks (or not): the line already ended at the CR.
        this.afterCR = false;
        i++;
        this.lineStart = i;
        continue;
      }
      this.afterCR = false;
      if (b !== LF && b !== CR) {
        i++;
        continue;
      }
      const lineEnd = i;
      if (b === CR) {
        if (i + 1 < buf.length) {
          if (buf[i + 1] === LF) i++;
        } else {
          this.afterCR = true;
        }
      }
      i++;
      if (lineEnd === this.lineStart) {
        if (lineEnd > this.eventStart) {
          // A blank line after at least one line: the event is complete.
          events.push(parseEvent(buf.subarray(this.eventStart, i), lineEnd - this.eventStart));
        }
        this.eventStart = i;
      }
      this.lineStart = i;
    }
    this.scan = i;
    this.compact();
    return events;
  }

  /** Bytes of an event not yet terminated (a stream that ends here ended mid-event). */
  get pending(): number {
    return this.buf.length - this.eventStart;
  }

  private append(chunk: Uint8Array): void {
    if (this.buf.length === 0) {
      this.buf = chunk;
      return;
    }
    const next = new Uint8Array(this.buf.length + chunk.length);
    next.set(this.buf, 0);
    next.set(chunk, this.buf.length);
    this.buf = next;
  }

  /** Drops bytes of events already returned, so memory holds at most one partial event. */
  private compact(): void {
    if (this.eventStart === 0) return;
    const rest = this.buf.slice(this.eventStart);
    this.scan -= this.eventStart;
    this.lineStart -= this.eventStart;
    this.eventStart = 0;
    this.buf = rest;
  }
}

/** Parses one complete event; `bodyLength` excludes the terminating blank line. */
function parseEvent(raw: Uint8Array, bodyLength: number): SseEvent {
  const text = decoder.decode(raw.subarray(0, bodyLength));
  const event: SseEvent = { data: '', raw };
  let hasData = false;
  for (const line of text.split(/\r\n|\r|\n/)) {
    if (line === '' || line.charCodeAt(0) === 0x3a /* ':' comment */) continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 0x20) value = value.slice(1);
    if (field === 'data') {
      event.data = hasData ? `${event.data}\n${value}` : value;
      hasData = true;
    } else if (field === 'event') {
      event.event = value;
    } else if (field === 'id') {
      event.id = value;
    }
  }
  return event;
}

const encoder = new TextEncoder();

/** Encodes an event as `event:`/`data:` lines; multi-line data becomes several `data:` lines. */
export function encodeSse(data: string, event?: string): Uint8Array {
  const head = event === undefined ? '' : `event: ${event}\n`;
  return encoder.encode(`${head}data: ${data.replaceAll('\n', '\ndata: ')}\n\n`);
}
