import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import type { ImagesConfig, S3Config } from '../src/config.ts';
import { ObjectStore } from '../src/objectStore.ts';
import { createImagesServer } from '../src/server.ts';
import type { ImagesServer } from '../src/server.ts';

/**
 * The images service against a real S3-compatible server (s3rver, berth's dependency for the
 * sandbox's `berth.local/s3`, in this process on port 0), which checks every request's Signature
 * Version 4. What was stored is read back with the AWS SDK, a client that shares no code with the
 * service.
 */
interface S3rverServer {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
const S3rver = createRequire(import.meta.url)('@20minutes/s3rver') as new (opts: Record<string, unknown>) => S3rverServer;

const BUCKET = 'images';
// s3rver's built-in key pair.
const KEYS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), randomBytes(64 * 1024)]);

let dir = '';
let s3: S3rverServer;
let s3Config: S3Config;
let images: ImagesServer;
let base = '';

function config(s3c: S3Config, over: Partial<ImagesConfig> = {}): ImagesConfig {
  return { port: 0, host: '127.0.0.1', s3: s3c, maxUploadBytes: 256 * 1024, maxConcurrentUploads: 4, storageTimeoutMs: 2000, drainMs: 0, ...over };
}

async function start(cfg: ImagesConfig): Promise<{ server: ImagesServer; base: string }> {
  const server = createImagesServer(cfg, new ObjectStore(cfg.s3, cfg.storageTimeoutMs));
  const { port } = await server.listen();
  return { server, base: `http://127.0.0.1:${port}` };
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** node:http rather than fetch: a chunked body without Content-Length, and the raw bytes back. */
function call(url: string, opts: { method?: string; body?: Buffer; headers?: Record<string, string>; chunked?: boolean } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: opts.method ?? 'GET', headers: opts.headers ?? {}, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    if (opts.body && opts.chunked) {
      req.write(opts.body.subarray(0, 1000));
      req.end(opts.body.subarray(1000));
    } else req.end(opts.body);
  });
}
const upload = (body: Buffer, type: string, at = base): Promise<Answer> => call(`${at}/images`, { method: 'POST', body, headers: { 'content-type': type } });
const json = (a: Answer): Record<string, unknown> => JSON.parse(a.body.toString()) as Record<string, unknown>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'images-test-'));
  s3 = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: dir, configureBuckets: [{ name: BUCKET, configs: [] }] });
  const { port } = await s3.run();
  s3Config = { endpoint: new URL(`http://127.0.0.1:${port}`), region: 'us-east-1', bucket: BUCKET, ...KEYS };
  ({ server: images, base } = await start(config(s3Config)));
});
afterAll(async () => {
  await images?.shutdown();
  await s3?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('services/images on S3-compatible object storage', () => {
  it('is live, and ready while the bucket answers', async () => {
    expect((await call(`${base}/healthz`)).status).toBe(200);
    expect((await call(`${base}/readyz`)).body.toString()).toBe('ready\n');
  });

  it('stores an upload in the bucket and serves it back byte for byte, with safe headers', async () => {
    const up = await upload(PNG, 'image/png');
    expect(up.status).toBe(201);
    const { id, size, sha256, contentType } = json(up) as { id: string; size: number; sha256: string; contentType: string };
    expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect([size, contentType, sha256]).toEqual([PNG.length, 'image/png', createHash('sha256').update(PNG).digest('hex')]);
    expect(up.headers['location']).toBe(`/images/${id}`);

    const got = await call(`${base}/images/${id}`);
    expect(got.status).toBe(200);
    expect(got.body.equals(PNG)).toBe(true);
    expect(got.headers).toMatchObject({ 'content-type': 'image/png', 'content-length': String(PNG.length), 'x-content-type-options': 'nosniff', 'content-security-policy': "default-src 'none'; sandbox" });
    const head = await call(`${base}/images/${id}`, { method: 'HEAD' });
    expect([head.status, head.headers['content-length'], head.body.length]).toEqual([200, String(PNG.length), 0]);

    // The object really is in the bucket, under its id.
    const sdk = new S3Client({ endpoint: s3Config.endpoint.origin, region: 'us-east-1', forcePathStyle: true, credentials: KEYS });
    const obj = await sdk.send(new GetObjectCommand({ Bucket: BUCKET, Key: id }));
    expect(Buffer.from(await obj.Body!.transformToByteArray()).equals(PNG)).toBe(true);
    expect(obj.ContentType).toBe('image/png');
    sdk.destroy();

    expect((await call(`${base}/images/${id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await call(`${base}/images/${id}`)).status).toBe(404);
  });

  it('serves application/octet-stream only as a download, and takes chunked uploads', async () => {
    const bytes = randomBytes(5000);
    const up = await call(`${base}/images/upload`, { method: 'POST', body: bytes, headers: { 'content-type': 'application/octet-stream' }, chunked: true });
    expect(up.status).toBe(201);
    const { id } = json(up) as { id: string };
    const got = await call(`${base}/images/${id}`);
    expect(got.body.equals(bytes)).toBe(true);
    expect(got.headers['content-disposition']).toBe(`attachment; filename="${id}"`);
  });

  it('refuses what it must not store: other types, SVG, a body that is not what it claims, empty and oversized bodies', async () => {
    expect((await upload(Buffer.from('<svg onload="alert(1)"/>'), 'image/svg+xml')).status).toBe(415);
    expect((await upload(Buffer.from('<html>'), 'text/html')).status).toBe(415);
    expect((await upload(randomBytes(100), 'image/png')).status).toBe(415);
    expect((await upload(Buffer.alloc(0), 'image/gif')).status).toBe(400);
    const big = Buffer.concat([PNG, randomBytes(256 * 1024)]);
    expect((await upload(big, 'image/png')).status).toBe(413);
    // Without a Content-Length the limit is found while reading.
    expect((await call(`${base}/images`, { method: 'POST', body: big, headers: { 'content-type': 'image/png' }, chunked: true })).status).toBe(413);
    expect((await call(`${base}/images/not-an-id`)).status).toBe(404);
    expect((await call(`${base}/images/${'A'.repeat(22)}`)).status).toBe(404);
    expect((await call(`${base}/images`, { method: 'PUT' })).status).toBe(405);
    const metrics = (await call(`${base}/metrics`)).body.toString();
    expect(metrics).toMatch(/^http_requests_total\{code="415"\} 3$/m);
    expect(metrics).toMatch(/^images_uploads_total [1-9]\d*$/m);
  });

  it('is not ready, and answers uploads 503, when the bucket refuses its keys or does not answer', async () => {
    const wrong = await start(config({ ...s3Config, secretAccessKey: 'not-the-secret' }));
    expect((await call(`${wrong.base}/readyz`)).status).toBe(503);
    expect((await call(`${wrong.base}/healthz`)).status).toBe(200);
    expect((await upload(PNG, 'image/png', wrong.base)).status).toBe(503);
    expect((await call(`${wrong.base}/metrics`)).body.toString()).toMatch(/^images_storage_errors_total 1$/m);
    await wrong.server.shutdown();

    const gone = await start(config({ ...s3Config, endpoint: new URL('http://127.0.0.1:1') }));
    expect((await call(`${gone.base}/readyz`)).status).toBe(503);
    expect((await upload(PNG, 'image/png', gone.base)).status).toBe(503);
    await gone.server.shutdown();
  });
});

describe('services/images configuration', () => {
  const env = { S3_ENDPOINT: 'http://files.images.svc.cluster.local:9000', S3_BUCKET: 'images', S3_ACCESS_KEY_ID: 'k', S3_SECRET_ACCESS_KEY: 's' };

  it('needs the bucket and its keys; everything else has defaults', () => {
    expect(loadConfig({})).toEqual({ errors: ['S3_ENDPOINT is not set', 'S3_BUCKET is not set', 'S3_ACCESS_KEY_ID is not set', 'S3_SECRET_ACCESS_KEY is not set'] });
    expect(loadConfig({ ...env, S3_ENDPOINT: 'ftp://x' })).toEqual({ errors: ['S3_ENDPOINT must be an http:// or https:// URL'] });
    const ok = loadConfig({ ...env, BIND_ADDRESS: '10.0.0.7' });
    expect('config' in ok && ok.config).toMatchObject({ port: 8080, host: '10.0.0.7', maxUploadBytes: 10 * 1024 * 1024, s3: { region: 'us-east-1', bucket: 'images' } });
  });

  it('falls back to the default, with a warning, for a bad number', () => {
    const r = loadConfig({ ...env, MAX_UPLOAD_BYTES: '10MB', MAX_CONCURRENT_UPLOADS: '0' });
    expect('warnings' in r && r.warnings).toEqual([
      { variable: 'MAX_UPLOAD_BYTES', value: '10MB', fallback: 10 * 1024 * 1024 },
      { variable: 'MAX_CONCURRENT_UPLOADS', value: '0', fallback: 4 },
    ]);
  });
});
