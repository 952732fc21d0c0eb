/** One dispatched Server-Sent Event. */
export interface SseMessage {
  /** The `event:` field; "message" when the event named none (as in the EventSource spec). */
  readonly event: string;
  readonly data: string;
  /** The `id:` field of this event, when it had one. */
  readonly id?: string;
  /** The `retry:` reconnection time in ms, when this event set one. */
  readonly retry?: number;
}

/**
 * Incremental parser for the text/event-stream format (WHATWG HTML §9.2.6): feed it chunks as they
 * arrive, in any split; it returns the events completed by each chunk. Lines end with \n, \r\n or \r;
 * a blank line dispatches; `:` lines are comments (heartbeats); unknown fields are ignored.
 */
export class SseParser {
  private buffer = '';
  private data: string[] = [];
  private event = '';
  private id: string | undefined;
  private retry: number | undefined;
  /** A chunk ended in \r: a following \n belongs to the same line end. */
  private pendingCr = false;

  push(chunk: string): SseMessage[] {
    let text = chunk;
    if (this.pendingCr && text.startsWith('\n')) text = text.slice(1);
    this.pendingCr = false;
    this.buffer += text;
    const out: SseMessage[] = [];
    for (;;) {
      const m = /\r\n|\n|\r/.exec(this.buffer);
      if (!m) break;
      // A lone \r at the very end may be the first half of \r\n split across chunks.
      if (m[0] === '\r' && m.index === this.buffer.length - 1) this.pendingCr = true;
      const line = this.buffer.slice(0, m.index);
      this.buffer = this.buffer.slice(m.index + m[0].length);
      const msg = this.line(line);
      if (msg) out.push(msg);
    }
    return out;
  }

  private line(line: string): SseMessage | undefined {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'data':
        this.data.push(value);
        break;
      case 'event':
        this.event = value;
        break;
      case 'id':
        if (!value.includes('\0')) this.id = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.retry = Number(value);
        break;
      default:
        break;
    }
    return undefined;
  }

  private dispatch(): SseMessage | undefined {
    const { data, event, id, retry } = this;
    this.data = [];
    this.event = '';
    this.id = undefined;
    this.retry = undefined;
    // An event without data is not dispatched, but its id and retry still count for reconnection.
    if (data.length === 0) {
      if (id !== undefined || retry !== undefined) return { event: '', data: '', ...(id !== undefined ? { id } : {}), ...(retry !== undefined ? { retry } : {}) };
      return undefined;
    }
    return { event: event || 'message', data: data.join('\n'), ...(id !== undefined ? { id } : {}), ...(retry !== undefined ? { retry } : {}) };
  }
}
