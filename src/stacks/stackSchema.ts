import { Type, type ObjectOptions, type Static, type TObject, type TOptional, type TProperties, type TSchema } from '@sinclair/typebox';
import { AppSchema } from '../appspec/appSchema.ts';
import { API_VERSION, DEFAULTS, MAX_APP_NAME_LENGTH } from '../appspec/defaults.ts';
import { DNS1123_LABEL, QUANTITY } from '../appspec/formats.ts';
import { RESOURCE_TYPES, STACK_DEFAULTS, STACK_KIND } from './stackDefaults.ts';

/**
 * The Stack spec as users write it: apps (each an App's metadata and spec plus `uses`) and the
 * resources they use. Closed objects throughout, like the App schema: a typo is an error. The app
 * specs themselves are checked by the App validator (src/appspec/validateApp.ts) once the stack's
 * references are resolved, so their problems carry the same codes and messages as a lone App's.
 */

const CODE = 'x-berth-code';

type Loose<T extends TProperties, R extends keyof T> = { [K in keyof T]: K extends R ? T[K] : TOptional<T[K]> };

function strict<T extends TProperties, R extends keyof T & string = never>(properties: T, options: ObjectOptions & { required?: readonly R[] } = {}): TObject<Loose<T, R>> {
  const { required = [], ...rest } = options;
  const props: Record<string, TSchema> = {};
  for (const [k, s] of Object.entries(properties)) props[k] = (required as readonly string[]).includes(k) ? s : Type.Optional(s);
  return Type.Object(props as Loose<T, R>, { additionalProperties: false, ...rest });
}

const Name = (description: string, maxLength = 63) => Type.String({ pattern: DNS1123_LABEL.source, maxLength, [CODE]: 'BERTH_SPEC_NAME', description });
const SecretName = (description: string) => Type.String({ pattern: /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.source, maxLength: 253, [CODE]: 'BERTH_SPEC_NAME', description });
const Quantity = (description: string) => Type.String({ pattern: QUANTITY.source, [CODE]: 'BERTH_SPEC_QUANTITY', description });

export const ResourceSchema = strict(
  {
    type: Type.Union(
      RESOURCE_TYPES.map((t) => Type.Literal(t)),
      { description: 'postgres, redis, s3 (an S3-compatible object store) or secret (a generated random value).' },
    ),
    namespace: Name('Namespace the resource runs in; default the stack\'s namespace.'),
    image: Type.String({ minLength: 1, description: `Server image; defaults: postgres ${STACK_DEFAULTS.images.postgres}, redis ${STACK_DEFAULTS.images.redis}, s3 ${STACK_DEFAULTS.images.s3}.` }),
    storage: Quantity(`Size of the PersistentVolumeClaim (postgres, redis, s3); default ${STACK_DEFAULTS.storage}.`),
    storageClassName: Name('StorageClass of the PersistentVolumeClaim; the cluster default when omitted.', 253),
    cpu: Quantity(`CPU request of the server; default ${STACK_DEFAULTS.cpu}.`),
    memory: Quantity(`Memory request (and twice it the limit) of the server; default ${STACK_DEFAULTS.memory}.`),
    database: Type.String({ pattern: /^[a-z_][a-z0-9_]{0,62}$/.source, [CODE]: 'BERTH_SPEC_PATTERN', description: 'postgres: database name; default the resource name with "-" as "_".' }),
    username: Type.String({ pattern: /^[a-z_][a-z0-9_]{0,62}$/.source, [CODE]: 'BERTH_SPEC_PATTERN', description: `postgres: the role apps log in as; default ${STACK_DEFAULTS.postgresUser}.` }),
    bucket: Type.String({ pattern: /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.source, [CODE]: 'BERTH_SPEC_PATTERN', description: 's3: bucket created at start; default the resource name.' }),
    region: Type.String({ pattern: /^[a-z0-9-]{1,32}$/.source, [CODE]: 'BERTH_SPEC_PATTERN', description: `s3: region apps sign for; default ${STACK_DEFAULTS.s3Region}.` }),
    length: Type.Integer({ minimum: 16, maximum: 128, description: `secret: random bytes in the value (base64url); default ${STACK_DEFAULTS.secretBytes}.` }),
    external: strict(
      { secret: SecretName('Secret in the resource\'s namespace holding every output of the type as a key (e.g. host, port, url).') },
      { required: ['secret'], description: 'Bind an existing server instead of running one: nothing is rendered, outputs come from this Secret.' },
    ),
  },
  { required: ['type'], description: 'A resource apps use: rendered hardened, or bound through `external`.' },
);

export const StackAppSchema = strict(
  {
    metadata: strict(
      {
        name: Name(`Name of the app (an App's metadata.name).`, MAX_APP_NAME_LENGTH),
        namespace: Name('Namespace of the app; default the stack\'s namespace.'),
        labels: Type.Record(Type.String(), Type.String(), { description: 'Labels copied to the app\'s objects.' }),
      },
      { required: ['name'] },
    ),
    uses: Type.Array(Name('A resource or app of this stack.'), {
      uniqueItems: true,
      description: 'Resources and apps this app connects to: each is an allowed network edge and a rollout dependency.',
    }),
    spec: AppSchema.properties.spec,
  },
  { required: ['metadata', 'spec'], description: 'An App of the stack. Env values may reference ${resources.NAME.OUTPUT}.' },
);

export const StackSchema = strict(
  {
    apiVersion: Type.Literal(API_VERSION, { description: 'Always berth.dev/v1alpha1.' }),
    kind: Type.Literal(STACK_KIND, { description: 'Always Stack.' }),
    metadata: strict(
      {
        name: Name('Name of the stack.', MAX_APP_NAME_LENGTH),
        namespace: Name('The stack\'s home namespace: where it is recorded and the default of its members.', 63),
        labels: Type.Record(Type.String(), Type.String(), { description: 'Labels copied to every member.' }),
      },
      { required: ['name'] },
    ),
    spec: strict(
      {
        resources: Type.Record(Type.String(), ResourceSchema, { description: 'Resources by name.' }),
        apps: Type.Array(StackAppSchema, { minItems: 1, description: 'The apps of the stack.' }),
      },
      { required: ['apps'] },
    ),
  },
  {
    required: ['apiVersion', 'kind', 'metadata', 'spec'],
    $id: 'https://berth.dev/schemas/stack-v1alpha1.json',
    title: 'berth Stack',
    description: 'Apps with the databases, caches, object stores and secrets they use, deployed and versioned together.',
  },
);

export type StackSpec = Static<typeof StackSchema>;
export type ResourceSpec = Static<typeof ResourceSchema>;

/**
 * The shell the stack validator checks first: the stack schema with every app's `spec` left open, so
 * an app spec's problems are reported once, by the App validator, with their App codes.
 */
export const StackShellSchema = (() => {
  const app = strict(
    { metadata: StackAppSchema.properties.metadata, uses: StackAppSchema.properties.uses, spec: Type.Object({}, { additionalProperties: true }) },
    { required: ['metadata', 'spec'] },
  );
  return strict(
    {
      apiVersion: StackSchema.properties.apiVersion,
      kind: StackSchema.properties.kind,
      metadata: StackSchema.properties.metadata,
      spec: strict({ resources: StackSchema.properties.spec.properties.resources, apps: Type.Array(app, { minItems: 1 }) }, { required: ['apps'] }),
    },
    { required: ['apiVersion', 'kind', 'metadata', 'spec'] },
  );
})();

/** The published JSON Schema of a Stack, without berth-internal keywords. */
export function stackJsonSchema(): Record<string, unknown> {
  const strip = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(strip);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([k]) => k !== CODE).map(([k, x]) => [k, strip(x)]));
    return v;
  };
  return { $schema: 'https://json-schema.org/draft/2020-12/schema', ...(strip(StackSchema) as Record<string, unknown>) };
}

/** Namespace of a stack whose metadata leaves it out. */
export const DEFAULT_STACK_NAMESPACE = DEFAULTS.namespace;
