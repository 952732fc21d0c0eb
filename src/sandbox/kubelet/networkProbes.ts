import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { asArray, asRecord, str } from '../client/objects.ts';
import type { ProbeResult } from './runtime.ts';

/**
 * The probes the kubelet itself runs over the network (HTTP GET, TCP connect) against a pod IP, with
 * the kubelet prober's messages. Every runtime shares them; only exec probes run inside a container.
 */

/** Runs an exec probe inside the container: argv, timeout in ms. */
export type ExecProbe = (argv: string[], timeoutMs: number) => Promise<ProbeResult>;

/**
 * Runs one probe: HTTP and TCP (and gRPC, as a TCP connect: a gRPC health client would need HTTP/2
 * gRPC) from the kubelet against the pod IP, exec through the runtime's `exec`.
 */
export async function dispatchProbe(probe: Record<string, unknown>, target: { podIP: string; container: Record<string, unknown> }, exec: ExecProbe): Promise<ProbeResult> {
  const http = asRecord(probe['httpGet']);
  if (Object.keys(http).length) return httpProbe(http, target, probeTimeoutMs(probe));
  const tcp = asRecord(probe['tcpSocket']);
  const grpc = asRecord(probe['grpc']);
  if (Object.keys(tcp).length || Object.keys(grpc).length) {
    const src = Object.keys(tcp).length ? tcp : grpc;
    const port = probePort(src['port'], target.container);
    if (port === undefined) return { success: false, message: `unknown port ${String(src['port'])}` };
    return tcpProbe(str(src['host']) ?? target.podIP, port, probeTimeoutMs(probe));
  }
  const execSpec = asRecord(probe['exec']);
  const argv = asArray(execSpec['command']).map(String);
  if (Object.keys(execSpec).length) return argv.length ? exec(argv, probeTimeoutMs(probe)) : { success: false, message: 'exec probe has no command' };
  return { success: false, message: 'probe has no handler' };
}

/** A probe's port: a number, a numeric string or the name of one of the container's ports. */
export function probePort(port: unknown, container: Record<string, unknown>): number | undefined {
  if (typeof port === 'number') return port;
  if (typeof port === 'string' && /^\d+$/.test(port)) return Number(port);
  for (const p of asArray(container['ports'])) {
    const r = asRecord(p);
    if (r['name'] === port && typeof r['containerPort'] === 'number') return r['containerPort'];
  }
  return undefined;
}

export function probeTimeoutMs(probe: Record<string, unknown>): number {
  const t = probe['timeoutSeconds'];
  return (typeof t === 'number' && t > 0 ? t : 1) * 1000;
}

export function httpProbe(h: Record<string, unknown>, t: { podIP: string; container: Record<string, unknown> }, timeout: number): Promise<ProbeResult> {
  const port = probePort(h['port'], t.container);
  const host = str(h['host']) ?? t.podIP;
  const path = str(h['path']) ?? '/';
  const https = (str(h['scheme']) ?? 'HTTP').toUpperCase() === 'HTTPS';
  const url = `${https ? 'https' : 'http'}://${host}:${String(port ?? h['port'])}${path}`;
  if (port === undefined) return Promise.resolve({ success: false, message: `Get "${url}": invalid port ${String(h['port'])}` });
  const headers: Record<string, string> = { 'User-Agent': 'kube-probe/1.31', Accept: '*/*' };
  for (const x of asArray(h['httpHeaders'])) {
    const r = asRecord(x);
    if (typeof r['name'] === 'string') headers[r['name']] = String(r['value'] ?? '');
  }
  return new Promise((resolve) => {
    let done = false;
    const finish = (r: ProbeResult): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(r);
    };
    const req = (https ? httpsRequest : httpRequest)({ host, port, path, method: 'GET', headers, agent: false, rejectUnauthorized: false }, (res) => {
      const code = res.statusCode ?? 0;
      res.resume();
      // The kubelet counts 200-399 as success.
      finish(code >= 200 && code < 400 ? { success: true } : { success: false, message: `HTTP probe failed with statuscode: ${code}` });
    });
    const timer = setTimeout(() => {
      req.destroy();
      finish({ success: false, message: `Get "${url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)` });
    }, timeout);
    req.on('error', (err: NodeJS.ErrnoException) => finish({ success: false, message: `Get "${url}": ${dialError(host, port, err)}` }));
    req.end();
  });
}

function dialError(host: string, port: number, err: NodeJS.ErrnoException): string {
  if (err.code === 'ECONNREFUSED') return `dial tcp ${host}:${port}: connect: connection refused`;
  if (err.code === 'ECONNRESET') return 'read: connection reset by peer';
  return `dial tcp ${host}:${port}: ${err.message}`;
}

export function tcpProbe(host: string, port: number, timeout: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const sock = connect({ host, port });
    const timer = setTimeout(() => {
      sock.destroy();
      resolve({ success: false, message: `dial tcp ${host}:${port}: i/o timeout` });
    }, timeout);
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.destroy();
      resolve({ success: true });
    });
    sock.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({ success: false, message: dialError(host, port, err) });
    });
  });
}
