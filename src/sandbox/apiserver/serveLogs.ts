import type { IncomingMessage, ServerResponse } from 'node:http';
import type { PodLogOptions, PodLogSource } from '../types.ts';
import type { ApiServer } from './apiServer.ts';
import { badRequest } from './statusErrors.ts';

/** Serves a pod's `log` subresource as chunked text from the log source, following when asked. */
export async function serveLogs(api: ApiServer, logs: PodLogSource | undefined, req: IncomingMessage, res: ServerResponse, namespace: string, name: string, q: URLSearchParams): Promise<void> {
  const def = api.def('', 'v1', 'pods');
  api.get(def, namespace, name);
  if (!logs) throw badRequest(`pod ${name} does not have a log source`);
  const opts: PodLogOptions = {};
  const container = q.get('container');
  if (container) opts.container = container;
  if (q.get('follow') === 'true') opts.follow = true;
  if (q.get('timestamps') === 'true') opts.timestamps = true;
  if (q.get('previous') === 'true') opts.previous = true;
  for (const k of ['tailLines', 'sinceSeconds', 'limitBytes'] as const) {
    const v = q.get(k);
    if (v !== null) opts[k] = Number(v);
  }
  const abort = new AbortController();
  res.on('error', () => undefined);
  req.on('close', () => abort.abort());
  res.on('close', () => abort.abort());
  const it = logs.read(namespace, name, opts, abort.signal)[Symbol.asyncIterator]();
  let started = false;
  const begin = (): void => {
    if (started) return;
    started = true;
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();
  };
  // Errors such as an unknown container must become a Status, so wait briefly before committing to 200.
  const headerTimer = setTimeout(begin, 300);
  let bytes = 0;
  try {
    for (;;) {
      const r = await it.next();
      if (r.done) break;
      begin();
      const line = `${opts.timestamps ? `${r.value.time} ` : ''}${r.value.line}\n`;
      if (opts.limitBytes !== undefined && bytes + line.length > opts.limitBytes) {
        res.write(line.slice(0, Math.max(0, opts.limitBytes - bytes)));
        break;
      }
      bytes += line.length;
      if (res.destroyed) break;
      res.write(line);
    }
  } catch (e) {
    clearTimeout(headerTimer);
    if (!started) throw e;
  }
  clearTimeout(headerTimer);
  begin();
  res.end();
}
