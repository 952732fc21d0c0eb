import type { IncomingMessage } from 'node:http';
import { parse as parseYaml } from 'yaml';
import type { PatchType } from '../types.ts';
import type { DeleteOpts, WriteOpts } from './apiTypes.ts';
import { isObject, obj } from './json.ts';
import { decodeKubernetesProtobuf } from './protobufDecoder.ts';
import { apiError, badRequest } from './statusErrors.ts';

const MAX_BODY = 3 * 1024 * 1024;

const PATCH_TYPES: Record<string, PatchType> = {
  'application/merge-patch+json': 'merge',
  'application/json-patch+json': 'json',
  'application/strategic-merge-patch+json': 'strategic',
  'application/apply-patch+yaml': 'apply',
};

export async function readBody(req: IncomingMessage, contentType: string): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    const b = c as Buffer;
    size += b.length;
    if (size > MAX_BODY) throw apiError(413, 'RequestEntityTooLarge', 'Request entity too large: limit is 3145728');
    chunks.push(b);
  }
  if (/protobuf/.test(contentType)) return decodeKubernetesProtobuf(Buffer.concat(chunks));
  if (/cbor/.test(contentType))
    throw apiError(415, 'UnsupportedMediaType', 'the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf', {});
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text.trim()) return undefined;
  try {
    if (contentType.includes('yaml')) return parseYaml(text) as unknown;
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw badRequest(`error decoding request body: ${e instanceof Error ? e.message : String(e)}`);
  }
}

export async function readPatchBody(req: IncomingMessage, contentType: string): Promise<{ type: PatchType; body: unknown }> {
  const type = PATCH_TYPES[contentType];
  if (!type)
    throw apiError(
      415,
      'UnsupportedMediaType',
      `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`,
      {},
    );
  return { type, body: await readBody(req, contentType) };
}

export async function readDeleteOpts(req: IncomingMessage, url: URL, contentType: string): Promise<DeleteOpts> {
  const q = url.searchParams;
  const body = obj(await readBody(req, contentType));
  const o: DeleteOpts = {};
  const policy = q.get('propagationPolicy') ?? (typeof body['propagationPolicy'] === 'string' ? body['propagationPolicy'] : undefined);
  if (policy !== undefined) {
    if (!['Background', 'Foreground', 'Orphan'].includes(policy))
      throw apiError(422, 'Invalid', `DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "${policy}": supported values: "Foreground", "Background", "Orphan"`);
    o.propagationPolicy = policy as DeleteOpts['propagationPolicy'];
  } else if (body['orphanDependents'] === true || q.get('orphanDependents') === 'true') o.propagationPolicy = 'Orphan';
  const grace = q.get('gracePeriodSeconds') ?? (typeof body['gracePeriodSeconds'] === 'number' ? String(body['gracePeriodSeconds']) : undefined);
  if (grace !== undefined) o.gracePeriodSeconds = Number(grace);
  const dry = q.getAll('dryRun');
  if (dry.includes('All') || (Array.isArray(body['dryRun']) && body['dryRun'].includes('All'))) o.dryRun = true;
  if (isObject(body['preconditions'])) o.preconditions = body['preconditions'] as DeleteOpts['preconditions'];
  return o;
}

export function writeOptsOf(req: IncomingMessage, url: URL): WriteOpts {
  const q = url.searchParams;
  return {
    fieldManager: q.get('fieldManager') ?? undefined,
    dryRun: q.getAll('dryRun').includes('All'),
    force: q.get('force') === 'true',
    userAgent: req.headers['user-agent'],
  };
}
