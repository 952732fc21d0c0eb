import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody } from './httpRequest.ts';
import { sendJson } from './httpResponse.ts';
import { obj } from './json.ts';
import { badRequest, methodNotAllowed, statusObject } from './statusErrors.ts';

/** Fault injection knobs for resilience tests of clients (informers, retries, reconnects). */
export interface SandboxFaults {
  /** Ends every open HTTP watch response; in-process watches are unaffected. */
  dropWatches(): void;
  /** Forgets the watch history: resuming from any earlier resourceVersion answers 410 Gone. */
  compactHistory(): void;
  /** Answers the next `n` API requests with this status (429 carries Retry-After: 1). */
  failNext(n: number, code?: 500 | 429 | 503): void;
  /** Delays every API request by `ms` milliseconds (0 turns it off). */
  setLatency(ms: number): void;
  /** Stops the listener, disconnecting every client, and listens again on the same port with the same state. */
  restart(): Promise<void>;
}

/** The answer to a request that `failNext` told to fail. */
export function sendInjectedFault(res: ServerResponse, code: 500 | 429 | 503): void {
  if (code === 429) {
    res.setHeader('Retry-After', '1');
    sendJson(res, 429, statusObject(429, 'TooManyRequests', 'the server has received too many requests and has asked us to try again later', { retryAfterSeconds: 1 }));
  } else if (code === 503) sendJson(res, 503, statusObject(503, 'ServiceUnavailable', 'the server is currently unable to handle the request', {}));
  else sendJson(res, 500, statusObject(500, 'InternalError', 'Internal error occurred: injected fault', { causes: [{ reason: '', message: 'injected fault' }] }));
}

/** The admin fault endpoint: POST JSON `{ "action": "...", ... }` pulls one of the knobs. */
export async function handleFaultAdmin(req: IncomingMessage, res: ServerResponse, faults: SandboxFaults): Promise<void> {
  if (req.method !== 'POST') throw methodNotAllowed();
  const body = obj(await readBody(req, 'application/json'));
  switch (body['action']) {
    case 'dropWatches':
      faults.dropWatches();
      break;
    case 'compactHistory':
      faults.compactHistory();
      break;
    case 'failNext':
      faults.failNext(Number(body['count'] ?? 1), (Number(body['code'] ?? 500) as 500 | 429 | 503) || 500);
      break;
    case 'setLatency':
      faults.setLatency(Number(body['ms'] ?? 0));
      break;
    case 'restart':
      sendJson(res, 202, { status: 'restarting' });
      setImmediate(() => void faults.restart());
      return;
    default:
      throw badRequest('action must be one of dropWatches, compactHistory, failNext, setLatency, restart');
  }
  sendJson(res, 200, { status: 'ok' });
}
