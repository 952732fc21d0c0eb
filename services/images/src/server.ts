import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ImagesConfig } from './config.ts';
import { CONTENT_TYPE as METRICS_CONTENT_TYPE, ImagesMetrics } from './metrics.ts';
import { StorageError } from './objectStore.ts';
import type { ObjectStore } from './objectStore.ts';

export type Logger = (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;

export interface ImagesServer {
  readonly server: Server;
  readonly metrics: ImagesMetrics;
  listen(): Promise<{ host: string; port: number }>;
  /** Readiness turns 503, requests keep being served for `drainMs`, then the server closes. */
  shutdown(): Promise<void>;
}

/**
 * Types accepted, each with the leading bytes its files start with: an upload that claims to be a
 * PNG must be one. SVG is refused on purpose (it can carry script). Anything else may be stored as
 * application/octet-stream, which is served only as a download.
 */
const IMAGE_TYPES: Readonly<Record<string, (b: Buffer) => boolean>> = {
  'image/png': (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
  'image/jpeg': (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff,
  'image/gif': (b) => /^GIF8[79]a$/.test(b.toString('latin1', 0, 6)),
  'image/webp': (b) => b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'WEBP',
  'image/avif': (b) => b.toString('latin1', 4, 12) === 'ftypavif',
};
const OCTET_STREAM = 'application/octet-stream';
/** 128 random bits, base64url: ids cannot be guessed, so an image's URL is its capability. */
const ID = /^[A-Za-z0-9_-]{22}$/;

/**
 * `POST /images` (also `/images/upload`): the body is the image, its Content-Type one of
 * IMAGE_TYPES or application/octet-stream; stored in the bucket under a new random id and answered
 * 201 `{id, size, contentType, sha256}` with a Location. `GET|HEAD /images/:id` streams it back from
 * object storage byte for byte; `DELETE /images/:id` removes it. `/healthz` (the process answers),
 * `/readyz` (the bucket answers HeadBucket; 503 otherwise, and while draining), `/metrics`.
 */
export function createImagesServer(config: ImagesConfig, store: ObjectStore, deps: { log?: Logger } = {}): ImagesServer {
  const log = deps.log ?? (() => {});
  const metrics = new ImagesMetrics();
  let draining = false;
  let uploading = 0;

  const upload = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const contentType = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    if (!(contentType in IMAGE_TYPES) && contentType !== OCTET_STREAM) {
      return refuse(req, res, 415, `Content-Type must be one of ${[...Object.keys(IMAGE_TYPES), OCTET_STREAM].join(', ')}`);
    }
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (declared > config.maxUploadBytes) return refuse(req, res, 413, `the image is larger than ${config.maxUploadBytes} bytes`);
    // Each upload is buffered (the payload hash is signed): a bound on how many keeps memory under the pod's limit.
    if (uploading >= config.maxConcurrentUploads) {
      res.setHeader('Retry-After', '1');
      return refuse(req, res, 503, 'too many uploads in progress, retry shortly');
    }
    uploading++;
    try {
      const body = await readBody(req, config.maxUploadBytes);
      if (body === undefined) return refuse(req, res, 413, `the image is larger than ${config.maxUploadBytes} bytes`);
      if (body.length === 0) return json(res, 400, { error: 'the body is empty: send the image as the request body' });
      if (contentType !== OCTET_STREAM && !IMAGE_TYPES[contentType]?.(body)) return json(res, 415, { error: `the body is not a ${contentType} file` });
      const id = randomBytes(16).toString('base64url');
      await store.put(id, body, contentType);
      metrics.uploads++;
      metrics.uploadedBytes += body.length;
      const sha256 = createHash('sha256').update(body).digest('hex');
      log('info', 'image stored', { id, size: body.length, contentType });
      res.setHeader('Location', `/images/${id}`);
      return json(res, 201, { id, size: body.length, contentType, sha256 });
    } finally {
      uploading--;
    }
  };

  const download = async (req: IncomingMessage, res: ServerResponse, id: string): Promise<void> => {
    const head = req.method === 'HEAD';
    const obj = await store.get(id, head ? 'HEAD' : 'GET');
    if (!obj) return json(res, 404, { error: 'no such image' });
    // Only the types this service accepts are served as themselves; anything else is a download.
    const type = obj.contentType in IMAGE_TYPES ? obj.contentType : OCTET_STREAM;
    res.statusCode = 200;
    res.setHeader('Content-Type', type);
    res.setHeader('Content-Length', obj.length);
    if (obj.etag) res.setHeader('ETag', obj.etag);
    // An id names one upload forever.
    res.setHeader('Cache-Control', 'private, max-age=31536000, immutable');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Content-Security-Policy', "default-src 'none'; sandbox");
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    if (type === OCTET_STREAM) res.setHeader('Content-Disposition', `attachment; filename="${id}"`);
    if (head) {
      obj.body.resume();
      res.end();
      return;
    }
    metrics.downloads++;
    // pipeline destroys the object-storage stream when the client goes away, and the reverse; the
    // status is sent by then, so an interruption can only be logged.
    await pipeline(obj.body, res).catch((err: unknown) => log('warn', 'download interrupted', { id, error: err instanceof Error ? err.message : String(err) }));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = performance.now();
    const method = req.method ?? 'GET';
    // A fixed base: the Host header is client input and must not decide how the path parses.
    const url = new URL((req.url ?? '/').replace(/^\/+/, '/'), 'http://images.invalid');
    const path = url.pathname;
    res.once('close', () => {
      const seconds = (performance.now() - started) / 1000;
      const aborted = !res.writableFinished;
      if (!aborted) metrics.observe(res.statusCode, seconds);
      const status = aborted ? 499 : res.statusCode;
      if (path === '/healthz' || path === '/readyz' || path === '/metrics') return;
      log(status >= 500 ? 'error' : 'info', aborted ? 'request aborted' : 'request', { method, path, status, ms: Math.round(seconds * 1e5) / 100 });
    });
    if (draining) res.setHeader('Connection', 'close');
    const id = /^\/images\/([^/]+)$/.exec(path)?.[1];
    try {
      if (path === '/healthz' && method === 'GET') return drained(req, () => text(res, 200, 'ok\n'));
      if (path === '/readyz' && method === 'GET') {
        req.resume();
        if (draining) return text(res, 503, 'draining\n');
        return (await store.bucketReachable()) ? text(res, 200, 'ready\n') : text(res, 503, 'object storage unreachable\n');
      }
      if (path === '/metrics' && method === 'GET') return drained(req, () => send(res, 200, METRICS_CONTENT_TYPE, metrics.render()));
      if ((path === '/images' || path === '/images/upload') && method === 'POST') return await upload(req, res);
      if (id !== undefined && id !== 'upload') {
        req.resume();
        if (!ID.test(id)) return json(res, 404, { error: 'no such image' });
        if (method === 'GET' || method === 'HEAD') return await download(req, res, id);
        if (method === 'DELETE') {
          await store.delete(id);
          res.statusCode = 204;
          return void res.end();
        }
      }
      req.resume();
      const known = path === '/images' || path === '/images/upload' || id !== undefined || path === '/healthz' || path === '/readyz' || path === '/metrics';
      return json(res, known ? 405 : 404, { error: known ? 'method not allowed' : 'not found' });
    } catch (err) {
      if (err instanceof ClientGone) return;
      const storage = err instanceof StorageError;
      if (storage) metrics.storageErrors++;
      log('error', 'request failed', { method, path, error: err instanceof Error ? err.message : String(err) });
      // Object storage failing is this service being unavailable, not a bug in the request.
      if (!res.headersSent) json(res, storage ? 503 : 500, { error: storage ? 'object storage unavailable' : 'internal error' });
      else res.destroy();
    }
  };

  const server = createServer((req, res) => void handle(req, res));
  // A slow client cannot hold a connection (or an upload slot) for long.
  server.headersTimeout = 15_000;
  server.requestTimeout = 60_000;

  return {
    server,
    metrics,
    async listen() {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ port: config.port, host: config.host }, () => {
          server.off('error', reject);
          resolve();
        });
      });
      const a = server.address() as AddressInfo;
      return { host: a.address, port: a.port };
    },
    async shutdown() {
      draining = true;
      await sleep(config.drainMs);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const force = setTimeout(() => server.closeAllConnections(), 10_000);
      await closed;
      clearTimeout(force);
      store.close();
    },
  };
}

function drained(req: IncomingMessage, answer: () => void): void {
  req.resume();
  answer();
}

/** Answers without reading the body; the connection closes so an unread upload is not parsed as the next request. */
function refuse(req: IncomingMessage, res: ServerResponse, status: number, error: string): void {
  res.setHeader('Connection', 'close');
  json(res, status, { error });
  req.resume();
}

/** The client closed the connection before its upload was complete. */
class ClientGone extends Error {}

/**
 * Reads at most `limit` bytes; `undefined` as soon as the body is larger (nothing more is buffered,
 * and the request is not destroyed, so the 413 can still be sent).
 */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      req.off('data', onData);
      resolve(undefined);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks, size)));
    req.once('close', () => {
      if (!req.complete) reject(new ClientGone('the client went away during the upload'));
    });
    req.once('error', () => reject(new ClientGone('the client went away during the upload')));
  });
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', type);
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.setHeader('Cache-Control', 'no-store');
  res.end(body);
}
const json = (res: ServerResponse, status: number, v: unknown): void => send(res, status, 'application/json', JSON.stringify(v) + '\n');
const text = (res: ServerResponse, status: number, body: string): void => send(res, status, 'text/plain; charset=utf-8', body);
