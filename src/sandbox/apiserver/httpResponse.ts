import type { ServerResponse } from 'node:http';
import { ApiError } from '../types.ts';
import { statusObject } from './statusErrors.ts';

function goQuoted(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

export function sendJson(res: ServerResponse, code: number, body: unknown, warnings: readonly string[] = []): void {
  const data = JSON.stringify(body);
  if (warnings.length) res.setHeader('Warning', warnings.map((w) => `299 - ${goQuoted(w)}`));
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data), 'Cache-Control': 'no-cache, private' });
  res.end(data);
}

export function sendError(res: ServerResponse, e: unknown): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  if (e instanceof ApiError) {
    sendJson(res, e.code, e.status);
    return;
  }
  const msg = e instanceof Error ? e.message : String(e);
  if (process.env['BERTH_SANDBOX_DEBUG']) console.error('[sandbox/http]', e);
  sendJson(res, 500, statusObject(500, 'InternalError', `Internal error occurred: ${msg}`, { causes: [{ reason: '', message: msg }] }));
}
