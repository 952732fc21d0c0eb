/**
 * Authorization on the live streams, with the REAL status engine against the sandbox cluster: a
 * viewer of namespace sec-a subscribed to /v1/events/stream receives the events of sec-a and never one
 * of sec-b, live or replayed (Last-Event-ID), while an admin's stream carries both.
 */
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../../src/api/buildServer.ts';
import { listen } from '../../src/api/server.ts';
import type { StatusStreamEvent } from '../../src/api/types.ts';
import { bearer, mintToken, testAuth } from '../../src/auth/testing/testAuth.ts';
import { loadConfig } from '../../src/config/config.ts';
import { startSandbox, type Sandbox } from '../../src/sandbox/startSandbox.ts';
import { createMemoryAppStore } from '../../src/store/memoryAppStore.ts';

let sb: Sandbox;
let app: FastifyInstance;
let url: string;
let admin: Record<string, string>;
let viewer: Record<string, string>;

interface Subscription {
  readonly events: StatusStreamEvent[];
  close(): Promise<void>;
}

/** Reads an SSE stream into `events` until closed. */
async function subscribe(path: string, headers: Record<string, string>): Promise<Subscription> {
  const abort = new AbortController();
  const res = await fetch(`${url}${path}`, { headers, signal: abort.signal });
  expect(res.status).toBe(200);
  const events: StatusStreamEvent[] = [];
  const reading = (async () => {
    const decoder = new TextDecoder();
    let buf = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buf += decoder.decode(chunk, { stream: true });
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const data = /^data: (.*)$/m.exec(buf.slice(0, i))?.[1];
          buf = buf.slice(i + 2);
          if (data) events.push(JSON.parse(data) as StatusStreamEvent);
        }
      }
    } catch {
      // aborted
    }
  })();
  return {
    events,
    async close() {
      abort.abort();
      await reading;
    },
  };
}

async function until(fn: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const available = (events: readonly StatusStreamEvent[], ns: string): boolean => events.some((e) => e.namespace === ns && e.status?.state === 'Available');

beforeAll(async () => {
  sb = await startSandbox({ port: 0, timeScale: 0.02 });
  const store = createMemoryAppStore();
  const auth = testAuth(store);
  const config = loadConfig({ port: 0, kubeconfig: sb.kubeconfig, logLevel: 'silent', reconcileIntervalMs: 3_600_000 }, {});
  app = buildServer({ store, logger: pino({ level: 'silent' }), auth }, config, { heartbeatMs: 500 });
  url = await listen(app, config);
  admin = bearer(await mintToken(auth.tokens, 'root', 'admin'));
  viewer = bearer(await mintToken(auth.tokens, 'viewer-a', 'viewer', ['sec-a']));
}, 30_000);

afterAll(async () => {
  await app?.close();
  await sb?.stop();
});

const deploy = async (ns: string): Promise<void> => {
  const body = JSON.stringify({ apiVersion: 'berth.dev/v1alpha1', kind: 'App', metadata: { name: 'web' }, spec: { image: 'nginx:1.27', replicas: 1 } });
  const res = await fetch(`${url}/v1/namespaces/${ns}/apps/web`, { method: 'PUT', headers: { ...admin, 'content-type': 'application/json' }, body });
  expect(res.status).toBe(202);
};

describe('status streams per namespace (real status engine, sandbox)', () => {
  it('a viewer of sec-a sees sec-a live and replayed, never sec-b; an admin sees both', async () => {
    const mine = await subscribe('/v1/events/stream', viewer);
    const all = await subscribe('/v1/events/stream', admin);
    try {
      await deploy('sec-b');
      await deploy('sec-a');
      await until(() => available(all.events, 'sec-a') && available(all.events, 'sec-b'), 20_000, 'both apps Available on the admin stream');
      await until(() => available(mine.events, 'sec-a'), 10_000, 'sec-a Available on the viewer stream');
      expect(all.events.filter((e) => e.namespace === 'sec-b').length).toBeGreaterThan(0);
      expect(mine.events.length).toBeGreaterThan(0);
      expect(mine.events.filter((e) => e.namespace !== 'sec-a')).toEqual([]);

      // Resuming from the start replays the engine's buffer: sec-b's events are in it, and filtered out.
      const replay = await subscribe('/v1/events/stream', { ...viewer, 'last-event-id': '0' });
      const admins = await subscribe('/v1/events/stream', { ...admin, 'last-event-id': '0' });
      try {
        await until(() => available(admins.events, 'sec-b') && available(replay.events, 'sec-a'), 10_000, 'the replays');
        expect(replay.events.filter((e) => e.namespace !== 'sec-a')).toEqual([]);
      } finally {
        await replay.close();
        await admins.close();
      }
      // Asking for sec-b explicitly changes nothing: the snapshot of sec-b is not sent either.
      const asked = await subscribe('/v1/events/stream?namespace=sec-b', viewer);
      const askedAll = await subscribe('/v1/events/stream?namespace=sec-b', admin);
      try {
        await until(() => askedAll.events.length > 0, 10_000, 'the admin snapshot of sec-b');
        expect(asked.events).toEqual([]);
      } finally {
        await asked.close();
        await askedAll.close();
      }
    } finally {
      await mine.close();
      await all.close();
    }
  });

  it('per-app streams and logs of another namespace are refused before anything streams', async () => {
    for (const path of ['/v1/namespaces/sec-b/apps/web/status/stream', '/v1/namespaces/sec-b/apps/web/logs?follow=true', '/v1/namespaces/sec-b/apps/web/status']) {
      const res = await fetch(`${url}${path}`, { headers: viewer });
      expect(res.status, path).toBe(403);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('BERTH_AUTH_FORBIDDEN');
    }
    const own = await fetch(`${url}/v1/namespaces/sec-a/apps/web/logs?tail=1`, { headers: viewer });
    expect(own.status).toBe(200);
    expect(await own.text()).toMatch(/^\[web-/);
  });
});
