import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiClient, apiClientFromEnv } from './apiClient.ts';
import { connectionFromEnv } from './connection.ts';
import { ApiError } from './httpTransport.ts';
import { runCli } from './testing/runCli.ts';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A port nothing listens on: bind, read the port, close. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

describe('ApiClient', () => {
  it('sends the bearer token and JSON body, and maps an error body to ApiError with code, hint and problems', async () => {
    const seen: { auth?: string; body: string; ifMatch?: string; url?: string } = { body: '' };
    const url = await serve((req, res) => {
      seen.auth = req.headers.authorization;
      seen.ifMatch = req.headers['if-match'] as string | undefined;
      seen.url = req.url;
      req.on('data', (d: Buffer) => (seen.body += d.toString()));
      req.on('end', () => {
        res.writeHead(409, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            error: { code: 'BERTH_REVISION_CONFLICT', status: 409, message: 'stale', hint: 'refetch', problems: [{ code: 'BERTH_REVISION_CONFLICT', path: '', message: 'm', hint: 'h', severity: 'error' }], requestId: 'req-1' },
          }),
        );
      });
    });
    const client = apiClientFromEnv({ BERTH_URL: url, BERTH_TOKEN: 's3cret' });
    const err = await client.deploy('team a', 'web', { kind: 'App' }, { ifMatch: 3, dryRun: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ code: 'BERTH_REVISION_CONFLICT', httpStatus: 409, message: 'stale', hint: 'refetch', requestId: 'req-1' });
    expect((err as ApiError).problems).toHaveLength(1);
    expect(seen).toMatchObject({ auth: 'Bearer s3cret', ifMatch: '3', url: '/v1/namespaces/team%20a/apps/web?dryRun=true', body: '{"kind":"App"}' });
  });

  it('turns a refused connection into BERTH_SERVER_UNREACHABLE with a hint to run berth up', async () => {
    const client = new ApiClient({ baseUrl: `http://127.0.0.1:${await closedPort()}` });
    const err = await client.listApps().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'BERTH_SERVER_UNREACHABLE', httpStatus: 0 });
    expect((err as ApiError).hint).toContain('berth up');
  });

  it('keeps the words of a non-berth error answer', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(502);
      res.end('bad gateway');
    });
    await expect(new ApiClient({ baseUrl: url }).listApps()).rejects.toMatchObject({ code: 'BERTH_INTERNAL', httpStatus: 502, message: 'HTTP 502 Bad Gateway: bad gateway' });
  });

  it('reads NDJSON log lines with the query parameters', async () => {
    let query = '';
    const url = await serve((req, res) => {
      query = req.url ?? '';
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.write('{"pod":"a","container":"c","time":null,"line":"one"}\n{"pod":"b","container":"c","time":null,');
      setTimeout(() => res.end('"line":"two"}\n'), 20);
    });
    const lines = [];
    for await (const l of new ApiClient({ baseUrl: url }).logs('default', 'hello', { tail: 5, since: '10m', container: 'c', previous: true })) lines.push(l.line);
    expect(lines).toEqual(['one', 'two']);
    expect(query).toBe('/v1/namespaces/default/apps/hello/logs?format=ndjson&tail=5&since=10m&container=c&previous=true');
  });

  it('resumes a dropped SSE stream with Last-Event-ID and loses no event', async () => {
    const lastIds: (string | undefined)[] = [];
    const event = (id: number): string => `id: ${id}\nevent: status\ndata: ${JSON.stringify({ id, type: 'status', namespace: 'default', name: 'hello' })}\n\n`;
    const url = await serve((req, res) => {
      const last = req.headers['last-event-id'] as string | undefined;
      lastIds.push(last);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const from = last === undefined ? 1 : Number(last) + 1;
      res.write(`retry: 10\n\n${event(from)}${event(from + 1)}: ping\n\n`);
      // Drop the connection mid-stream after two events.
      setTimeout(() => res.destroy(), 20);
    });
    const client = new ApiClient({ baseUrl: url, reconnectDelayMs: 10 });
    const ids: number[] = [];
    let reconnects = 0;
    for await (const e of client.appStatusStream('default', 'hello', { onReconnect: () => reconnects++ })) {
      ids.push(e.id);
      if (ids.length === 6) break;
    }
    expect(ids).toEqual([1, 2, 3, 4, 5, 6]);
    expect(lastIds.slice(0, 3)).toEqual([undefined, '2', '4']);
    expect(reconnects).toBe(2);
  });

  it('gives up a stream whose server stays away, with BERTH_SERVER_UNREACHABLE', async () => {
    const client = new ApiClient({ baseUrl: `http://127.0.0.1:${await closedPort()}`, reconnectDelayMs: 1, maxReconnects: 2 });
    const consume = async (): Promise<void> => {
      for await (const _ of client.eventStream()) void _;
    };
    await expect(consume()).rejects.toMatchObject({ code: 'BERTH_SERVER_UNREACHABLE' });
  });

  it('uses BERTH_TOKEN, else the local admin token file, which it sends only to a server on this machine', () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-client-'));
    try {
      mkdirSync(join(dir, '.berth'));
      writeFileSync(join(dir, '.berth', 'admin.token'), 'berth_local\n', { mode: 0o600 });
      const stateDir = join(dir, '.berth');
      expect(connectionFromEnv({}, 'http://127.0.0.1:7070', stateDir).token).toBe('berth_local');
      expect(connectionFromEnv({}, 'https://localhost:7443', stateDir).token).toBe('berth_local');
      expect(connectionFromEnv({ BERTH_TOKEN: 'berth_env' }, 'http://127.0.0.1:7070', stateDir).token).toBe('berth_env');
      // Another host never receives the local admin token.
      expect(connectionFromEnv({}, 'https://berth.example.com', stateDir).token).toBeUndefined();
      expect(connectionFromEnv({}, 'http://127.0.0.1:7070', join(dir, 'nowhere')).token).toBeUndefined();
      expect(() => connectionFromEnv({ BERTH_CA_FILE: join(dir, 'missing.pem') }, undefined, undefined)).toThrow(expect.objectContaining({ code: 'BERTH_FILE_NOT_FOUND' }));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects a server URL that is not http(s) as a usage error', () => {
    expect(() => apiClientFromEnv({}, 'ftp://x')).toThrow(expect.objectContaining({ code: 'BERTH_CLI_USAGE' }));
    expect(() => apiClientFromEnv({}, 'not a url')).toThrow(expect.objectContaining({ code: 'BERTH_CLI_USAGE' }));
  });
});

function run(argv: string[], env: Record<string, string> = {}): ReturnType<typeof runCli> {
  return runCli(argv, { env });
}

describe('remote commands without a server', () => {
  it('exit 3 with BERTH_SERVER_UNREACHABLE when nothing listens', async () => {
    const port = await closedPort();
    const r = await run(['apps'], { BERTH_URL: `http://127.0.0.1:${port}` });
    expect(r.code).toBe(3);
    expect(r.err).toContain('error BERTH_SERVER_UNREACHABLE');
    expect(r.err).toContain('berth up');
  });

  it('exit 2 for bad input before any request is sent', async () => {
    let requests = 0;
    const url = await serve((_req, res) => {
      requests++;
      res.end('{}');
    });
    const bad = await run(['deploy', '-f', '-', '--server', url]);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('BERTH_SPEC_EMPTY');
    expect((await run(['deploy', '--server', url])).code).toBe(2);
    expect((await run(['logs', 'hello', '--tail', 'x', '--server', url])).code).toBe(2);
    expect((await run(['deploy', '-f', 'examples/hello.yaml', '--timeout', 'soon', '--server', url])).code).toBe(2);
    expect((await run(['delete', 'hello', '--server', url])).err).toContain('--yes');
    expect((await run(['status'])).code).toBe(2);
    expect(requests).toBe(0);
  });
});
