/** HTTPS through the sandbox's ingress with a certificate the test made, as the seed examples' TLS ingresses are reached. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import type { E2E } from './e2eKit.ts';

/** A self-signed certificate for `hosts` (the first is the CN), written as cert.pem and key.pem in `dir`; returns the PEM certificate. */
export function selfSignedCert(dir: string, hosts: readonly string[]): string {
  execFileSync(
    '/usr/bin/openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '2', '-subj', `/CN=${hosts[0] ?? 'localhost'}`, '-addext', `subjectAltName=${hosts.map((n) => `DNS:${n}`).join(',')}`],
    { stdio: 'ignore' },
  );
  return readFileSync(join(dir, 'cert.pem'), 'utf8');
}

export interface IngressAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** HTTPS to the sandbox's ingress as `host` (SNI and Host), trusting only `cert`. */
export function ingressCall(e: E2E, cert: string, host: string, path: string, opts: { method?: string; body?: Buffer | string; headers?: Record<string, string> } = {}): Promise<IngressAnswer> {
  const url = new URL(path, e.sandbox.ingress?.httpsUrl ?? 'https://127.0.0.1:1');
  return new Promise((resolve, reject) => {
    const req = request(url, { method: opts.method ?? 'GET', headers: { host, ...opts.headers }, ca: cert, servername: host, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.setTimeout(15_000, () => req.destroy(new Error(`timeout: ${host}${path}`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}
