/**
 * The deploy form, generated from the App JSON Schema (`GET /v1/schema/app`, what `berth schema`
 * prints): which fields it offers, and the App document its values describe. Pure; no DOM.
 */
/** A JSON Schema node as `berth schema` publishes it (only what the form reads). */
export interface SchemaNode {
  readonly type?: string;
  readonly description?: string;
  readonly default?: unknown;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly pattern?: string;
  readonly properties?: Readonly<Record<string, SchemaNode>>;
  readonly required?: readonly string[];
  readonly anyOf?: readonly SchemaNode[];
}

/** The fields the form offers, by their path in the App document; everything else about each comes from the schema. */
export const FIELDS: ReadonlyArray<{ readonly path: readonly string[]; readonly label: string }> = [
  { path: ['metadata', 'name'], label: 'Name' },
  { path: ['metadata', 'namespace'], label: 'Namespace' },
  { path: ['spec', 'image'], label: 'Image' },
  { path: ['spec', 'replicas'], label: 'Replicas' },
  { path: ['spec', 'port'], label: 'Port' },
  { path: ['spec', 'env'], label: 'Environment' },
  { path: ['spec', 'expose', 'ingress', 'host'], label: 'Ingress host' },
  { path: ['spec', 'autoscale', 'min'], label: 'Autoscale: min replicas' },
  { path: ['spec', 'autoscale', 'max'], label: 'Autoscale: max replicas' },
  { path: ['spec', 'autoscale', 'cpu'], label: 'Autoscale: target CPU %' },
];

export function nodeAt(schema: SchemaNode, path: readonly string[]): SchemaNode | undefined {
  let node: SchemaNode | undefined = schema;
  for (const key of path) {
    const obj: SchemaNode | undefined = node?.properties ? node : node?.anyOf?.find((n) => n.properties);
    node = obj?.properties?.[key];
  }
  return node;
}

export type Values = Record<string, string>;

export function get(doc: unknown, path: readonly string[]): unknown {
  let v: unknown = doc;
  for (const k of path) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
  return v;
}

function set(doc: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let o = doc;
  for (const k of path.slice(0, -1)) o = (o[k] ??= {}) as Record<string, unknown>;
  o[path[path.length - 1] ?? ''] = value;
}

/** The App document the form describes: only fields given (defaults stay the server's). */
export function documentOf(values: Values, schema: SchemaNode, base?: unknown): Record<string, unknown> {
  const doc = (base ? structuredClone(base) : { apiVersion: 'berth.dev/v1alpha1', kind: 'App', metadata: {}, spec: {} }) as Record<string, unknown>;
  for (const f of FIELDS) {
    const key = f.path.join('.');
    const raw = (values[key] ?? '').trim();
    const node = nodeAt(schema, f.path);
    if (key === 'spec.env') {
      const env = Object.fromEntries(raw.split('\n').map((l) => l.trim()).filter(Boolean).map((l) => [l.slice(0, l.indexOf('=') < 0 ? l.length : l.indexOf('=')), l.includes('=') ? l.slice(l.indexOf('=') + 1) : '']));
      if (Object.keys(env).length > 0) set(doc, f.path, env);
      else if (get(doc, f.path) !== undefined) set(doc, f.path, undefined);
      continue;
    }
    if (raw === '') {
      if (get(doc, f.path) !== undefined) set(doc, f.path, undefined);
      continue;
    }
    set(doc, f.path, node?.type === 'integer' && /^-?\d+$/.test(raw) ? Number(raw) : raw);
  }
  return pruneEmpty(JSON.parse(JSON.stringify(doc)) as Record<string, unknown>);
}

/** Drops objects left empty by cleared fields (an empty `autoscale: {}` would not validate). */
function pruneEmpty(o: Record<string, unknown>): Record<string, unknown> {
  for (const [k, v] of Object.entries(o)) {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      pruneEmpty(v as Record<string, unknown>);
      if (Object.keys(v).length === 0 && k !== 'metadata' && k !== 'spec') delete o[k];
    }
  }
  return o;
}

