import { connect, type Socket } from 'node:net';

type Reply = string | number | null | Reply[];

/**
 * A minimal Redis client (RESP2 over one TCP connection, commands answered in order): the service
 * needs PING, AUTH, SET … EX, GET and DEL, which do not justify a dependency. Reconnects on the next
 * command after the connection drops.
 */
export class RedisClient {
  private socket: Socket | undefined;
  private buffer = Buffer.alloc(0);
  private readonly waiting: { resolve: (r: Reply) => void; reject: (e: Error) => void }[] = [];

  constructor(private readonly url: URL, private readonly timeoutMs = 2000) {}

  async command(...args: string[]): Promise<Reply> {
    const socket = await this.connection();
    return this.send(socket, args);
  }

  close(): void {
    this.socket?.end();
    this.socket = undefined;
  }

  private send(socket: Socket, args: string[]): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error('redis: timeout'));
        this.reset(new Error('redis: timeout'));
      }, this.timeoutMs);
      this.waiting.push({ resolve: (r) => (clearTimeout(timer), resolve(r)), reject: (e) => (clearTimeout(timer), reject(e)) });
      socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
    });
  }

  private async connection(): Promise<Socket> {
    if (this.socket && !this.socket.destroyed) return this.socket;
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect({ host: this.url.hostname || '127.0.0.1', port: Number(this.url.port || 6379), timeout: this.timeoutMs });
      s.once('connect', () => resolve(s));
      s.once('error', reject);
      s.once('timeout', () => s.destroy(new Error('redis: connect timeout')));
    });
    socket.setTimeout(0);
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('error', (e) => this.reset(e));
    socket.on('close', () => this.reset(new Error('redis: connection closed')));
    this.socket = socket;
    const password = decodeURIComponent(this.url.password);
    if (password) {
      const user = decodeURIComponent(this.url.username);
      await this.send(socket, user ? ['AUTH', user, password] : ['AUTH', password]);
    }
    return socket;
  }

  private reset(err: Error): void {
    this.socket?.destroy();
    this.socket = undefined;
    this.buffer = Buffer.alloc(0);
    for (const w of this.waiting.splice(0)) w.reject(err);
  }

  private onData(d: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, d]);
    for (;;) {
      const parsed = parse(this.buffer, 0);
      if (!parsed) return;
      this.buffer = this.buffer.subarray(parsed.end);
      const w = this.waiting.shift();
      if (parsed.error) w?.reject(new Error(`redis: ${parsed.error}`));
      else w?.resolve(parsed.value);
    }
  }
}

/** One RESP2 value from `at`, or undefined when the buffer does not hold all of it yet. */
function parse(buf: Buffer, at: number): { value: Reply; end: number; error?: string } | undefined {
  const eol = buf.indexOf('\r\n', at);
  if (eol === -1) return undefined;
  const line = buf.toString('utf8', at + 1, eol);
  switch (String.fromCharCode(buf[at] ?? 0)) {
    case '+':
      return { value: line, end: eol + 2 };
    case '-':
      return { value: null, end: eol + 2, error: line };
    case ':':
      return { value: Number(line), end: eol + 2 };
    case '$': {
      const n = Number(line);
      if (n < 0) return { value: null, end: eol + 2 };
      if (buf.length < eol + 2 + n + 2) return undefined;
      return { value: buf.toString('utf8', eol + 2, eol + 2 + n), end: eol + 2 + n + 2 };
    }
    case '*': {
      const n = Number(line);
      if (n < 0) return { value: null, end: eol + 2 };
      const items: Reply[] = [];
      let end = eol + 2;
      for (let i = 0; i < n; i++) {
        const item = parse(buf, end);
        if (!item) return undefined;
        items.push(item.value);
        end = item.end;
      }
      return { value: items, end };
    }
    default:
      throw new Error(`redis: unexpected reply type ${String.fromCharCode(buf[at] ?? 0)}`);
  }
}
