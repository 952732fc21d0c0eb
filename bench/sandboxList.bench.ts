/**
 * Sandbox list throughput: GET of a 100-ConfigMap list over HTTP, against a bare Node http server that
 * answers every request with one JSON.stringify of the same list (the floor for any JSON list server).
 * Both run in this process and are measured in alternating rounds by the same keep-alive client, so
 * the ratio holds on a busy machine.
 *
 * Run: npm run bench:sandbox-list -- [--items 100] [--requests 2000] [--rounds 5] [--concurrency 4]
 */
import { createServer, Agent, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { startSandbox } from '../src/sandbox/startSandbox.ts';

const { values } = parseArgs({
  options: {
    items: { type: 'string', default: '100' },
    requests: { type: 'string', default: '2000' },
    rounds: { type: 'string', default: '5' },
    concurrency: { type: 'string', default: '4' },
  },
});
const ITEMS = Number(values.items);
const REQUESTS = Number(values.requests);
const ROUNDS = Number(values.rounds);
const CONCURRENCY = Number(values.concurrency);

const CM = { group: '', version: 'v1', resource: 'configmaps' } as const;
const NS = { group: '', version: 'v1', resource: 'namespaces' } as const;
const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });

function get(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, headers: { accept: 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks).toString('utf8')) : reject(new Error(`HTTP ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end();
  });
}

async function rate(url: string): Promise<number> {
  let next = 0;
  const t = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next++ < REQUESTS) await get(url);
    }),
  );
  return REQUESTS / ((performance.now() - t) / 1000);
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

const sandbox = await startSandbox({ port: 0, controllers: false, ingress: false });
const bare = createServer();
try {
  await sandbox.client.create(NS, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench-list' } });
  for (let i = 0; i < ITEMS; i++) {
    await sandbox.client.create(CM, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: `cm-${String(i).padStart(4, '0')}`, namespace: 'bench-list', labels: { app: 'bench', tier: 'list' } },
      data: { k: 'v'.repeat(64), config: 'key=value\n'.repeat(8) },
    });
  }
  const sandboxUrl = `${sandbox.url}/api/v1/namespaces/bench-list/configmaps`;
  // The baseline serves exactly the list the sandbox returns, serialised once per request.
  const list: unknown = JSON.parse(await get(sandboxUrl));
  bare.on('request', (_req, res) => {
    const data = JSON.stringify(list);
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) });
    res.end(data);
  });
  await new Promise<void>((r) => bare.listen(0, '127.0.0.1', r));
  const bareUrl = `http://127.0.0.1:${(bare.address() as AddressInfo).port}/`;

  await rate(sandboxUrl); // warm-up for both paths
  await rate(bareUrl);
  const sb: number[] = [];
  const bn: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    sb.push(await rate(sandboxUrl));
    bn.push(await rate(bareUrl));
  }
  const ratios = sb.map((s, i) => s / (bn[i] ?? NaN));
  console.log(`list of ${ITEMS} ConfigMaps, ${REQUESTS} requests × ${ROUNDS} rounds, concurrency ${CONCURRENCY}`);
  console.log(`  sandbox   ${median(sb).toFixed(0)} lists/s (median)`);
  console.log(`  bare Node ${median(bn).toFixed(0)} lists/s (median; one JSON.stringify per request)`);
  console.log(`  ratio     ${median(ratios).toFixed(2)}× (median of per-round ratios: ${ratios.map((x) => x.toFixed(2)).join(' ')})`);
} finally {
  agent.destroy();
  await new Promise<void>((r) => bare.close(() => r()));
  await sandbox.stop();
}
