import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { ManualClock } from '../kube/testing/manualClock.ts';
import { describe, expect, it } from 'vitest';
import { createHttpProber, deniedProbeAddress } from './httpProber.ts';
import { FakeHttpProber } from './testing/fakeHttpProber.ts';
import { describeHttpProberContract, type ContractTarget } from './testing/httpProber.contract.ts';

/** One loopback server; each target is a path on it, except refused ones (a port nothing listens on). */
describeHttpProberContract('node:http', async () => {
  const targets = new Map<string, ContractTarget>();
  const seen = new Map<string, IncomingHttpHeaders>();
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    const t = targets.get(req.url ?? '');
    seen.set(req.url ?? '', req.headers);
    if (t === undefined || 'hang' in t || 'refuse' in t) return; // hang: never answer
    res.writeHead(t.status, { 'content-type': 'text/plain' });
    if (t.bodyBytes !== undefined) {
      const chunk = Buffer.alloc(64 * 1024, 'x');
      let left = t.bodyBytes;
      const pump = (): void => {
        while (left > 0) {
          left -= chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    } else res.end('ok');
  });
  server.on('connection', (s) => (sockets.add(s), s.on('close', () => sockets.delete(s))));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  // A port that was free a moment ago: connecting to it is refused.
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const refusedPort = (closed.address() as AddressInfo).port;
  await new Promise<void>((r) => closed.close(() => r()));
  let n = 0;
  return {
    prober: createHttpProber(),
    async target(t) {
      if ('refuse' in t) return `http://127.0.0.1:${refusedPort}/refused`;
      const path = `/t${n++}`;
      targets.set(path, t);
      return `http://127.0.0.1:${port}${path}`;
    },
    settle: (pending) => pending,
    lastHeaders: (url) => seen.get(new URL(url).pathname),
    async cleanup() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
});

describeHttpProberContract('fake', async () => {
  const clock = new ManualClock(1_000);
  const prober = new FakeHttpProber(clock);
  let n = 0;
  return {
    prober,
    async target(t) {
      const url = `http://fake/t${n++}`;
      prober.set(url, 'status' in t ? { status: t.status } : t);
      return url;
    },
    async settle(pending, ms) {
      await clock.advance(ms);
      return pending;
    },
    lastHeaders: (url) => prober.callsTo(url).at(-1)?.headers,
    cleanup: async () => undefined,
  };
});

describe('the real prober never connects to link-local (cloud metadata) addresses', () => {
  it('refuses literals and names that resolve there, and allows loopback (the sandbox\'s ClusterIPs)', async () => {
    expect(['169.254.169.254', '::ffff:169.254.169.254', 'fe80::1', 'fd00:ec2::254', '0.0.0.0'].map(deniedProbeAddress)).toEqual([true, true, true, true, true]);
    expect(['127.96.0.7', '10.0.0.1', '::1', '2001:db8::1'].map(deniedProbeAddress)).toEqual([false, false, false, false]);
    const prober = createHttpProber();
    expect(await prober.probe({ url: 'http://169.254.169.254/latest/meta-data/', timeoutMs: 1_000 })).toMatchObject({ ok: false, error: 'connect' });
    expect(await prober.probe({ url: 'http://[fe80::1]/', timeoutMs: 1_000 })).toMatchObject({ ok: false, error: 'connect' });
  });
});
