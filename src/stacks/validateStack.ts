import { API_VERSION, KIND } from '../appspec/defaults.ts';
import { closest } from '../appspec/formats.ts';
import { parseImageReference } from '../appspec/imageReference.ts';
import { valueProblems } from '../appspec/specLimits.ts';
import { schemaProblems } from '../appspec/structuralProblems.ts';
import { validateApp } from '../appspec/validateApp.ts';
import { problem, type Problem } from '../errors.ts';
import type { ResolvedResource, ResolvedStack, StackMember } from './resolvedStack.ts';
import { cycleProblems } from './stackGraph.ts';
import { resolveEnv } from './stackReferences.ts';
import { DEFAULT_STACK_NAMESPACE, StackShellSchema, type ResourceSpec, type StackSpec } from './stackSchema.ts';
import { RESOURCE_PORTS, STACK_DEFAULTS, STACK_LABEL, type ResourceType } from './stackDefaults.ts';

export interface StackValidation {
  readonly stack: ResolvedStack | null;
  readonly problems: Problem[];
  readonly warnings: Problem[];
}

export interface StackResolveOptions {
  /**
   * Rotation count of each generated resource (its Secret's GENERATION_ANNOTATION): apps using a
   * rotated resource get it as a plain env variable, so a rotation rolls their pods.
   */
  readonly generations?: Readonly<Record<string, number>>;
}

/** Fields each resource type takes besides `type`; anything else written is BERTH_STACK_RESOURCE_FIELD. */
const SERVER_FIELDS = ['namespace', 'image', 'storage', 'storageClassName', 'cpu', 'memory', 'external'];
const TYPE_FIELDS: Readonly<Record<ResourceType, readonly string[]>> = {
  postgres: [...SERVER_FIELDS, 'database', 'username'],
  redis: SERVER_FIELDS,
  s3: [...SERVER_FIELDS, 'bucket', 'region'],
  secret: ['namespace', 'length'],
};
/** With `external`, only where the Secret lives matters: nothing is rendered. */
const EXTERNAL_FIELDS = ['type', 'namespace', 'external'];

const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** Resource names become object names with suffixes ("-connection", "-headless", "data-…-0"). */
const MAX_RESOURCE_NAME = 40;

const esc = (k: string): string => k.replace(/~/g, '~0').replace(/\//g, '~1');

/**
 * Validates one Stack document and resolves it: defaults, references, the apps' network policy from the
 * graph. Every problem carries a code and a field path; nothing is resolved when any exists.
 */
export function validateStack(doc: unknown, opts: StackResolveOptions = {}): StackValidation {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    return { stack: null, problems: [problem('BERTH_SPEC_NOT_OBJECT', '', `the document is ${Array.isArray(doc) ? 'a list' : JSON.stringify(doc)}, not a mapping`, { value: doc })], warnings: [] };
  }
  const shape = valueProblems(doc);
  if (shape.length > 0) return { stack: null, problems: shape, warnings: [] };
  const structural = schemaProblems(StackShellSchema, doc);
  if (structural.length > 0) return { stack: null, problems: structural, warnings: [] };
  const spec = doc as StackSpec;
  const stackName = spec.metadata.name;
  const stackNs = spec.metadata.namespace ?? DEFAULT_STACK_NAMESPACE;
  const problems: Problem[] = [];
  const warnings: Problem[] = [];

  // Resources.
  const resources = new Map<string, ResolvedResource>();
  for (const [name, r] of Object.entries(spec.spec.resources ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const path = `/spec/resources/${esc(name)}`;
    if (!NAME.test(name) || name.length > MAX_RESOURCE_NAME) {
      problems.push(problem('BERTH_SPEC_NAME', path, `resource name "${name}" must be a DNS label of at most ${MAX_RESOURCE_NAME} characters`, { value: name }));
      continue;
    }
    problems.push(...resourceFieldProblems(r, path));
    resources.set(name, resolveResource(name, r, stackNs));
  }

  // Apps as Apps: the App validator reports their problems with App codes, under the stack's path.
  const written = spec.spec.apps.map((a, i) => {
    const metadata = { ...a.metadata, namespace: a.metadata.namespace ?? stackNs, labels: memberLabels(spec, a.metadata.labels) };
    const result = validateApp({ apiVersion: API_VERSION, kind: KIND, metadata, spec: a.spec });
    problems.push(...result.problems.map((p) => ({ ...p, path: `/spec/apps/${i}${p.path}` })));
    warnings.push(...result.warnings.map((p) => ({ ...p, path: `/spec/apps/${i}${p.path}` })));
    return { input: a, metadata, app: result.apps[0], index: i };
  });

  // Names: one namespace of names for uses and references.
  const seen = new Map<string, string>([...resources.keys()].map((n) => [n, `/spec/resources/${esc(n)}`] as const));
  for (const w of written) {
    const path = `/spec/apps/${w.index}/metadata/name`;
    const other = seen.get(w.input.metadata.name);
    if (other !== undefined) problems.push(problem('BERTH_STACK_DUPLICATE_NAME', path, `"${w.input.metadata.name}" is already the name of ${other}`, { value: w.input.metadata.name }));
    else seen.set(w.input.metadata.name, path);
  }
  const names = [...seen.keys()].sort();
  const usesOf = new Map<string, string[]>();
  const usesPath = new Map<string, string>();
  for (const w of written) {
    const own = w.input.metadata.name;
    const uses = w.input.uses ?? [];
    uses.forEach((u, j) => {
      if (u === own || !seen.has(u)) {
        const near = closest(u, names.filter((n) => n !== own));
        problems.push(problem('BERTH_STACK_UNKNOWN_REFERENCE', `/spec/apps/${w.index}/uses/${j}`, u === own ? `app "${own}" cannot use itself` : `"${u}" is no resource or app of the stack${near ? `; did you mean "${near}"?` : ''}`, {
          value: u,
          hint: `uses takes names of this stack's resources and other apps: ${names.filter((n) => n !== own).join(', ') || '(none declared)'}.`,
        }));
      }
    });
    usesOf.set(own, uses.filter((u) => u !== own && seen.has(u) && !resources.has(u)));
    usesPath.set(own, `/spec/apps/${w.index}/uses`);
  }
  problems.push(...cycleProblems(usesOf, usesPath));
  if (problems.length > 0) return { stack: null, problems, warnings };

  // Resolve references and the graph's network rules, then validate each compiled App again.
  const apps = new Map(written.map((w) => [w.input.metadata.name, w] as const));
  const members: StackMember[] = [];
  for (const w of written) {
    if (!w.app) continue;
    const uses = [...(w.input.uses ?? [])].sort();
    const env = resolveEnv(w.app.spec.env, resources, new Set(uses), `/spec/apps/${w.index}/spec/env`);
    problems.push(...env.problems);
    if (env.problems.length > 0) continue;
    for (const [name, gen] of Object.entries(opts.generations ?? {})) {
      if (gen > 1 && uses.includes(name)) env.env[`BERTH_CREDENTIALS_${name.toUpperCase().replace(/-/g, '_')}`] = String(gen);
    }
    const written_ = w.input.spec as Record<string, unknown>;
    const network = (written_.network ?? {}) as { allowFrom?: unknown[]; egress?: unknown };
    const allowFrom = [...(network.allowFrom ?? [{ ingress: true }])];
    for (const other of written) {
      if (other !== w && (other.input.uses ?? []).includes(w.input.metadata.name)) allowFrom.push({ app: other.input.metadata.name, namespace: other.metadata.namespace });
    }
    let egress: unknown = network.egress ?? [];
    if (Array.isArray(egress)) {
      const edges: unknown[] = [];
      for (const u of uses) {
        const r = resources.get(u);
        if (r && (r.type === 'secret' || r.external !== null)) continue;
        const target = r ? { namespace: r.namespace, port: RESOURCE_PORTS[r.type as Exclude<ResourceType, 'secret'>] } : undefined;
        const app = apps.get(u)?.app;
        const to = target ?? (app ? { namespace: app.metadata.namespace, port: app.spec.port } : undefined);
        if (to) edges.push({ app: u, namespace: to.namespace, ports: [to.port] });
      }
      egress = [...egress, ...edges];
    }
    const document = {
      apiVersion: API_VERSION,
      kind: KIND,
      metadata: w.metadata,
      spec: {
        ...written_,
        ...(Object.keys(env.env).length > 0 ? { env: env.env } : {}),
        ...(Object.keys(env.secretEnv).length > 0 ? { secretEnv: { ...((written_.secretEnv as object | undefined) ?? {}), ...env.secretEnv } } : {}),
        network: { ...network, allowFrom, egress },
      },
    };
    if (Object.keys(env.env).length === 0) delete (document.spec as Record<string, unknown>).env;
    const compiled = validateApp(document);
    problems.push(...compiled.problems.map((p) => ({ ...p, path: `/spec/apps/${w.index}${p.path}` })));
    const app = compiled.apps[0];
    if (app) members.push({ app, document: JSON.parse(JSON.stringify(document)) as Record<string, unknown>, uses });
  }
  if (problems.length > 0) return { stack: null, problems, warnings };
  return {
    stack: {
      apiVersion: API_VERSION,
      kind: 'Stack',
      metadata: { name: stackName, namespace: stackNs, labels: sortedRecord(spec.metadata.labels ?? {}) },
      spec: { resources: [...resources.values()], apps: members },
    },
    problems,
    warnings,
  };
}

function memberLabels(spec: StackSpec, own: Readonly<Record<string, string>> | undefined): Record<string, string> {
  return sortedRecord({ ...(spec.metadata.labels ?? {}), ...(own ?? {}), 'app.kubernetes.io/part-of': own?.['app.kubernetes.io/part-of'] ?? spec.metadata.labels?.['app.kubernetes.io/part-of'] ?? spec.metadata.name, [STACK_LABEL]: spec.metadata.name });
}

function resourceFieldProblems(r: ResourceSpec, path: string): Problem[] {
  const out: Problem[] = [];
  const allowed = r.external ? EXTERNAL_FIELDS : ['type', ...TYPE_FIELDS[r.type]];
  for (const k of Object.keys(r)) {
    if (allowed.includes(k)) continue;
    const why = r.external ? 'an external resource renders nothing' : `a ${r.type} resource does not take it`;
    out.push(problem('BERTH_STACK_RESOURCE_FIELD', `${path}/${esc(k)}`, `"${k}" does not apply here: ${why}`, { value: (r as Record<string, unknown>)[k], hint: `Fields of ${r.external ? 'an external resource' : r.type}: ${allowed.join(', ')}.` }));
  }
  if (r.type === 'secret' && r.external) out.push(problem('BERTH_STACK_RESOURCE_FIELD', `${path}/external`, 'a secret resource is generated; bind an existing Secret through the app\'s secretEnv instead', { hint: 'Remove "external", or use spec.secretEnv of the app.' }));
  if (r.image !== undefined && !parseImageReference(r.image).ok) out.push(problem('BERTH_SPEC_IMAGE', `${path}/image`, `image "${r.image}" is not a valid image reference`, { value: r.image }));
  return out;
}

function resolveResource(name: string, r: ResourceSpec, stackNs: string): ResolvedResource {
  return {
    name,
    type: r.type,
    namespace: r.namespace ?? stackNs,
    external: r.external ? { secret: r.external.secret } : null,
    image: r.type === 'secret' || r.external ? null : (r.image ?? STACK_DEFAULTS.images[r.type]),
    storage: r.storage ?? STACK_DEFAULTS.storage,
    storageClassName: r.storageClassName ?? null,
    cpu: r.cpu ?? STACK_DEFAULTS.cpu,
    memory: r.memory ?? STACK_DEFAULTS.memory,
    database: r.database ?? name.replace(/-/g, '_'),
    username: r.username ?? STACK_DEFAULTS.postgresUser,
    bucket: r.bucket ?? (name.length >= 3 ? name : `${name}-bucket`),
    region: r.region ?? STACK_DEFAULTS.s3Region,
    length: r.length ?? STACK_DEFAULTS.secretBytes,
  };
}

function sortedRecord(r: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(r).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** True for a document that declares itself a Stack (the CLI and API route on it). */
export function isStackDocument(doc: unknown): boolean {
  return doc !== null && typeof doc === 'object' && (doc as { kind?: unknown }).kind === 'Stack';
}

