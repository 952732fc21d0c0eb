import { createHash, createHmac } from 'node:crypto';
import type { Hash, Hmac } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { SignatureV4 } from '@smithy/signature-v4';
import type { S3Config } from './config.ts';

/** SHA-256 and HMAC-SHA-256 from node:crypto, in the shape the signer takes (as @smithy/hash-node does). */
class NodeSha256 {
  private hash: Hash | Hmac;
  constructor(private readonly secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = this.fresh();
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(toBytes(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }
  reset(): void {
    this.hash = this.fresh();
  }
  private fresh(): Hash | Hmac {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', toBytes(this.secret));
  }
}

function toBytes(data: string | ArrayBuffer | ArrayBufferView): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

/** Object storage answered with an error status (its XML `<Code>` when there is one), or not at all (status 0). */
export class StorageError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message = `object storage answered ${status}${code ? ` ${code}` : ''}`,
  ) {
    super(message);
  }
}

export interface StoredObject {
  readonly contentType: string;
  readonly length: number;
  readonly etag: string | undefined;
  /** The object's bytes, streamed from object storage; destroy it when the client goes away. */
  readonly body: IncomingMessage;
}

const EMPTY_SHA256 = createHash('sha256').digest('hex');

/**
 * The four S3 calls the service makes (PutObject, GetObject, DeleteObject, HeadBucket) as path-style
 * requests over node:http(s), each signed with Signature Version 4 by @smithy/signature-v4 — AWS's
 * signer alone: loading it costs a pod about half the memory the whole S3 client would (ADR 0018).
 */
export class ObjectStore {
  private readonly signer: SignatureV4;
  private readonly agent: HttpAgent;

  constructor(
    private readonly cfg: S3Config,
    private readonly timeoutMs = 5000,
  ) {
    this.signer = new SignatureV4({
      service: 's3',
      region: cfg.region,
      credentials: { accessKeyId: cfg.accessKeyId, secretAccessKey: cfg.secretAccessKey },
      sha256: NodeSha256,
      // S3 signs the path as sent, not encoded twice.
      uriEscapePath: false,
    });
    // Keep-alive: readiness asks every few seconds and uploads come in bursts.
    this.agent = cfg.endpoint.protocol === 'https:' ? new HttpsAgent({ keepAlive: true, maxSockets: 32 }) : new HttpAgent({ keepAlive: true, maxSockets: 32 });
  }

  async put(key: string, body: Buffer, contentType: string): Promise<void> {
    const res = await this.send('PUT', this.objectPath(key), { 'content-type': contentType, 'content-length': String(body.length) }, body);
    await expectOk(res);
    res.resume();
  }

  /** The object, or undefined when the bucket has no such key. */
  async get(key: string, method: 'GET' | 'HEAD' = 'GET'): Promise<StoredObject | undefined> {
    const res = await this.send(method, this.objectPath(key));
    if (res.statusCode === 404) {
      res.resume();
      return undefined;
    }
    await expectOk(res);
    const etag = res.headers.etag;
    return { contentType: res.headers['content-type'] ?? 'application/octet-stream', length: Number(res.headers['content-length'] ?? 0), etag, body: res };
  }

  /** Deletes the key; S3 answers 204 whether or not it existed. */
  async delete(key: string): Promise<void> {
    const res = await this.send('DELETE', this.objectPath(key));
    await expectOk(res);
    res.resume();
  }

  /** True when the bucket exists and these credentials may use it (HeadBucket answers 200). */
  async bucketReachable(): Promise<boolean> {
    try {
      const res = await this.send('HEAD', `/${encodeURIComponent(this.cfg.bucket)}`);
      res.resume();
      return res.statusCode === 200;
    } catch {
      return false;
    }
  }

  close(): void {
    this.agent.destroy();
  }

  private objectPath(key: string): string {
    return `/${encodeURIComponent(this.cfg.bucket)}/${key.split('/').map(encodeURIComponent).join('/')}`;
  }

  private async send(method: string, path: string, headers: Record<string, string> = {}, body?: Buffer): Promise<IncomingMessage> {
    const { endpoint } = this.cfg;
    const signed = await this.signer.sign({
      method,
      protocol: endpoint.protocol,
      hostname: endpoint.hostname,
      ...(endpoint.port ? { port: Number(endpoint.port) } : {}),
      path,
      query: {},
      headers: {
        ...headers,
        host: endpoint.host,
        // The payload's hash is signed too, so a body changed in transit is refused.
        'x-amz-content-sha256': body ? createHash('sha256').update(body).digest('hex') : EMPTY_SHA256,
      },
    });
    const send = endpoint.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send(
        { method, protocol: endpoint.protocol, hostname: endpoint.hostname, port: endpoint.port || undefined, path, headers: signed.headers, agent: this.agent },
        (res) => {
          // The timeout covers connecting and waiting for the answer, not streaming a large body.
          req.setTimeout(0);
          resolve(res);
        },
      );
      req.setTimeout(this.timeoutMs, () => req.destroy(new StorageError(0, 'Timeout', `object storage did not answer within ${this.timeoutMs} ms`)));
      req.on('error', (err: NodeJS.ErrnoException) => reject(err instanceof StorageError ? err : new StorageError(0, err.code ?? '', `object storage unreachable: ${err.message}`)));
      req.end(body);
    });
  }
}

async function expectOk(res: IncomingMessage): Promise<void> {
  const status = res.statusCode ?? 0;
  if (status >= 200 && status < 300) return;
  let text = '';
  for await (const chunk of res as AsyncIterable<Buffer>) {
    if (text.length < 4096) text += chunk.toString('utf8');
  }
  throw new StorageError(status, /<Code>([^<]{1,100})<\/Code>/.exec(text)?.[1] ?? '');
}
