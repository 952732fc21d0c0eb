import { apiError } from './statusErrors.ts';
import type { ApiError } from '../types.ts';

/**
 * Decodes the Kubernetes protobuf encoding (`application/vnd.kubernetes.protobuf`: the "k8s\0" magic and
 * a runtime.Unknown envelope) for the objects kubectl's typed clients send — `kubectl create <kind>`
 * generators, `kubectl auth can-i`, `kubectl autoscale`. Only the messages and fields below are
 * known; a set field outside them is refused with 415 rather than silently dropped. Empty non-pointer
 * fields (which Go's protobuf encoder always writes) decode to nothing, as `omitempty` JSON would.
 */

type Scalar = 'string' | 'int' | 'bool' | 'bytes' | 'time' | 'qty' | 'intstr' | 'skip';
interface FieldDef {
  name: string;
  type: Scalar | { msg: string };
  repeated: boolean;
  /** Map with string keys; `type` is the value type. */
  map: boolean;
  /** Pointer in Go: zero values are meaningful. */
  ptr: boolean;
  /** Embedded struct whose fields JSON inlines into the parent. */
  inline: boolean;
}

// Field lists as `jsonName=number[:type][[]][*][^]`; type defaults to string, capitalised types are messages.
const SPEC: Record<string, string> = {
  ObjectMeta:
    'name=1 generateName=2 namespace=3 selfLink=4 uid=5 resourceVersion=6 generation=7:int creationTimestamp=8:time deletionTimestamp=9:time deletionGracePeriodSeconds=10:int* labels=11:map annotations=12:map ownerReferences=13:OwnerReference[] finalizers=14[] managedFields=17:skip',
  OwnerReference: 'kind=1 name=3 uid=4 apiVersion=5 controller=6:bool* blockOwnerDeletion=7:bool*',
  LabelSelector: 'matchLabels=1:map matchExpressions=2:LabelSelectorRequirement[]',
  LabelSelectorRequirement: 'key=1 operator=2 values=3[]',
  ObjectReference: 'kind=1 namespace=2 name=3 uid=4 apiVersion=5 resourceVersion=6 fieldPath=7',
  LocalObjectReference: 'name=1',
  Namespace: 'metadata=1:ObjectMeta spec=2:NamespaceSpec status=3:skip',
  NamespaceSpec: 'finalizers=1[]',
  ConfigMap: 'metadata=1:ObjectMeta data=2:map binaryData=3:map:bytes immutable=4:bool*',
  Secret: 'metadata=1:ObjectMeta data=2:map:bytes type=3 stringData=4:map immutable=5:bool*',
  ServiceAccount: 'metadata=1:ObjectMeta secrets=2:ObjectReference[] imagePullSecrets=3:LocalObjectReference[] automountServiceAccountToken=4:bool*',
  Deployment: 'metadata=1:ObjectMeta spec=2:DeploymentSpec status=3:skip',
  DeploymentSpec:
    'replicas=1:int* selector=2:LabelSelector template=3:PodTemplateSpec strategy=4:DeploymentStrategy minReadySeconds=5:int revisionHistoryLimit=6:int* paused=7:bool progressDeadlineSeconds=9:int*',
  DeploymentStrategy: 'type=1 rollingUpdate=2:RollingUpdateDeployment',
  RollingUpdateDeployment: 'maxUnavailable=1:intstr maxSurge=2:intstr',
  PodTemplateSpec: 'metadata=1:ObjectMeta spec=2:PodSpec',
  PodSpec:
    'containers=2:Container[] restartPolicy=3 terminationGracePeriodSeconds=4:int* activeDeadlineSeconds=5:int* dnsPolicy=6 nodeSelector=7:map serviceAccountName=8 serviceAccount=9 nodeName=10 hostNetwork=11:bool hostPID=12:bool hostIPC=13:bool imagePullSecrets=15:LocalObjectReference[] hostname=16 subdomain=17 schedulerName=19 initContainers=20:Container[] automountServiceAccountToken=21:bool* priorityClassName=24',
  Container:
    'name=1 image=2 command=3[] args=4[] workingDir=5 ports=6:ContainerPort[] env=7:EnvVar[] resources=8:ResourceRequirements terminationMessagePath=13 imagePullPolicy=14 stdin=16:bool stdinOnce=17:bool tty=18:bool terminationMessagePolicy=20',
  ContainerPort: 'name=1 hostPort=2:int containerPort=3:int protocol=4 hostIP=5',
  EnvVar: 'name=1 value=2',
  ResourceRequirements: 'limits=1:map:qty requests=2:map:qty',
  Service: 'metadata=1:ObjectMeta spec=2:ServiceSpec status=3:skip',
  ServiceSpec: 'ports=1:ServicePort[] selector=2:map clusterIP=3 type=4 externalIPs=5[] sessionAffinity=7 loadBalancerIP=8 externalName=10 externalTrafficPolicy=11 publishNotReadyAddresses=13:bool',
  ServicePort: 'name=1 protocol=2 port=3:int targetPort=4:intstr nodePort=5:int appProtocol=6',
  Job: 'metadata=1:ObjectMeta spec=2:JobSpec status=3:skip',
  JobSpec:
    'parallelism=1:int* completions=2:int* activeDeadlineSeconds=3:int* selector=4:LabelSelector manualSelector=5:bool* template=6:PodTemplateSpec backoffLimit=7:int* ttlSecondsAfterFinished=8:int* completionMode=9 suspend=10:bool*',
  CronJob: 'metadata=1:ObjectMeta spec=2:CronJobSpec status=3:skip',
  CronJobSpec:
    'schedule=1 startingDeadlineSeconds=2:int* concurrencyPolicy=3 suspend=4:bool* jobTemplate=5:JobTemplateSpec successfulJobsHistoryLimit=6:int* failedJobsHistoryLimit=7:int* timeZone=8',
  JobTemplateSpec: 'metadata=1:ObjectMeta spec=2:JobSpec',
  Ingress: 'metadata=1:ObjectMeta spec=2:IngressSpec status=3:skip',
  IngressSpec: 'defaultBackend=1:IngressBackend tls=2:IngressTLS[] rules=3:IngressRule[] ingressClassName=4',
  IngressTLS: 'hosts=1[] secretName=2',
  IngressRule: 'host=1 ingressRuleValue=2:IngressRuleValue^',
  IngressRuleValue: 'http=1:HTTPIngressRuleValue',
  HTTPIngressRuleValue: 'paths=1:HTTPIngressPath[]',
  HTTPIngressPath: 'path=1 backend=2:IngressBackend pathType=3',
  IngressBackend: 'resource=3:TypedLocalObjectReference service=4:IngressServiceBackend',
  TypedLocalObjectReference: 'apiGroup=1 kind=2 name=3',
  IngressServiceBackend: 'name=1 port=2:ServiceBackendPort',
  ServiceBackendPort: 'name=1 number=2:int',
  Role: 'metadata=1:ObjectMeta rules=2:PolicyRule[]',
  ClusterRole: 'metadata=1:ObjectMeta rules=2:PolicyRule[] aggregationRule=3:AggregationRule',
  AggregationRule: 'clusterRoleSelectors=1:LabelSelector[]',
  PolicyRule: 'verbs=1[] apiGroups=2[] resources=3[] resourceNames=4[] nonResourceURLs=5[]',
  RoleBinding: 'metadata=1:ObjectMeta subjects=2:Subject[] roleRef=3:RoleRef',
  ClusterRoleBinding: 'metadata=1:ObjectMeta subjects=2:Subject[] roleRef=3:RoleRef',
  Subject: 'kind=1 apiGroup=2 name=3 namespace=4',
  RoleRef: 'apiGroup=1 kind=2 name=3',
  SelfSubjectAccessReview: 'metadata=1:ObjectMeta spec=2:SelfSubjectAccessReviewSpec status=3:skip',
  SelfSubjectAccessReviewSpec: 'resourceAttributes=1:ResourceAttributes nonResourceAttributes=2:NonResourceAttributes',
  ResourceAttributes: 'namespace=1 verb=2 group=3 version=4 resource=5 subresource=6 name=7',
  NonResourceAttributes: 'path=1 verb=2',
  SelfSubjectRulesReview: 'metadata=1:ObjectMeta spec=2:SelfSubjectRulesReviewSpec status=3:skip',
  SelfSubjectRulesReviewSpec: 'namespace=1',
  PodDisruptionBudget: 'metadata=1:ObjectMeta spec=2:PodDisruptionBudgetSpec status=3:skip',
  PodDisruptionBudgetSpec: 'minAvailable=1:intstr selector=2:LabelSelector maxUnavailable=3:intstr unhealthyPodEvictionPolicy=4',
  ResourceQuota: 'metadata=1:ObjectMeta spec=2:ResourceQuotaSpec status=3:skip',
  ResourceQuotaSpec: 'hard=1:map:qty scopes=2[]',
  HorizontalPodAutoscaler: 'metadata=1:ObjectMeta spec=2:HorizontalPodAutoscalerSpec status=3:skip',
  HorizontalPodAutoscalerSpec: 'scaleTargetRef=1:CrossVersionObjectReference minReplicas=2:int* maxReplicas=3:int metrics=4:MetricSpec[]',
  CrossVersionObjectReference: 'kind=1 name=2 apiVersion=3',
  HorizontalPodAutoscalerV1: 'metadata=1:ObjectMeta spec=2:HorizontalPodAutoscalerSpecV1 status=3:skip',
  HorizontalPodAutoscalerSpecV1: 'scaleTargetRef=1:CrossVersionObjectReference minReplicas=2:int* maxReplicas=3:int targetCPUUtilizationPercentage=4:int*',
  MetricSpec: 'type=1 resource=4:ResourceMetricSource',
  ResourceMetricSource: 'name=1 target=2:MetricTarget',
  MetricTarget: 'type=1 value=2:qty averageValue=3:qty averageUtilization=4:int*',
  Eviction: 'metadata=1:ObjectMeta deleteOptions=2:DeleteOptions',
  DeleteOptions: 'gracePeriodSeconds=1:int* orphanDependents=3:bool* propagationPolicy=4 dryRun=5[]',
  Binding: 'metadata=1:ObjectMeta target=2:ObjectReference',
};

/** Top-level messages by apiVersion and kind. */
const TOP: Record<string, string> = {
  'v1/Namespace': 'Namespace',
  'v1/ConfigMap': 'ConfigMap',
  'v1/Secret': 'Secret',
  'v1/ServiceAccount': 'ServiceAccount',
  'v1/Service': 'Service',
  'v1/ResourceQuota': 'ResourceQuota',
  'v1/Binding': 'Binding',
  'apps/v1/Deployment': 'Deployment',
  'batch/v1/Job': 'Job',
  'batch/v1/CronJob': 'CronJob',
  'networking.k8s.io/v1/Ingress': 'Ingress',
  'rbac.authorization.k8s.io/v1/Role': 'Role',
  'rbac.authorization.k8s.io/v1/ClusterRole': 'ClusterRole',
  'rbac.authorization.k8s.io/v1/RoleBinding': 'RoleBinding',
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': 'ClusterRoleBinding',
  'authorization.k8s.io/v1/SelfSubjectAccessReview': 'SelfSubjectAccessReview',
  'authorization.k8s.io/v1/SelfSubjectRulesReview': 'SelfSubjectRulesReview',
  'policy/v1/PodDisruptionBudget': 'PodDisruptionBudget',
  'policy/v1/Eviction': 'Eviction',
  'autoscaling/v2/HorizontalPodAutoscaler': 'HorizontalPodAutoscaler',
  'autoscaling/v1/HorizontalPodAutoscaler': 'HorizontalPodAutoscalerV1',
};

const SCALARS = new Set(['string', 'int', 'bool', 'bytes', 'time', 'qty', 'intstr', 'skip']);

function compile(): Map<string, Map<number, FieldDef>> {
  const out = new Map<string, Map<number, FieldDef>>();
  for (const [msg, spec] of Object.entries(SPEC)) {
    const fields = new Map<number, FieldDef>();
    for (const tok of spec.split(/\s+/)) {
      const m = /^(\w+)=(\d+)(?::(\w+))?(?::(\w+))?(\[\])?(\*)?(\^)?$/.exec(tok);
      if (!m) throw new Error(`bad protobuf field spec ${msg}: ${tok}`);
      const [, name = '', num = '', t1, t2, rep, ptr, inline] = m;
      const isMap = t1 === 'map';
      const t = isMap ? (t2 ?? 'string') : (t1 ?? 'string');
      fields.set(Number(num), { name, type: SCALARS.has(t) ? (t as Scalar) : { msg: t }, repeated: !!rep, map: isMap, ptr: !!ptr, inline: !!inline });
    }
    out.set(msg, fields);
  }
  return out;
}

const SCHEMA = compile();

interface Raw {
  field: number;
  wire: number;
  varint?: bigint;
  bytes?: Buffer;
}

function unsupported(what: string): ApiError {
  return apiError(
    415,
    'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml (the berth sandbox decodes protobuf only for the objects kubectl's generators create; ${what}: use \`kubectl create -f\` or \`kubectl apply -f\`)`,
    {},
  );
}

function readVarint(b: Buffer, pos: { i: number }): bigint {
  let result = 0n;
  let shift = 0n;
  for (;;) {
    if (pos.i >= b.length) throw unsupported('truncated varint');
    const byte = b[pos.i++] ?? 0;
    result |= BigInt(byte & 0x7f) << shift;
    if (!(byte & 0x80)) return result;
    shift += 7n;
  }
}

function parseFields(b: Buffer): Raw[] {
  const out: Raw[] = [];
  const pos = { i: 0 };
  while (pos.i < b.length) {
    const key = readVarint(b, pos);
    const field = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (wire === 0) out.push({ field, wire, varint: readVarint(b, pos) });
    else if (wire === 2) {
      const len = Number(readVarint(b, pos));
      if (pos.i + len > b.length) throw unsupported('truncated message');
      out.push({ field, wire, bytes: b.subarray(pos.i, pos.i + len) });
      pos.i += len;
    } else if (wire === 1) pos.i += 8;
    else if (wire === 5) pos.i += 4;
    else throw unsupported(`wire type ${wire}`);
  }
  return out;
}

function isEmpty(r: Raw): boolean {
  return r.wire === 0 ? r.varint === 0n : r.wire === 2 ? (r.bytes?.length ?? 0) === 0 : true;
}

function toInt(v: bigint | undefined): number {
  // int32 negatives are sign-extended to 64 bits.
  return Number(BigInt.asIntN(64, v ?? 0n));
}

function scalar(type: Scalar, r: Raw): unknown {
  switch (type) {
    case 'int':
      return toInt(r.varint);
    case 'bool':
      return r.varint !== 0n;
    case 'string':
      return (r.bytes ?? Buffer.alloc(0)).toString('utf8');
    case 'bytes':
      return (r.bytes ?? Buffer.alloc(0)).toString('base64');
    case 'qty': {
      const f = parseFields(r.bytes ?? Buffer.alloc(0)).find((x) => x.field === 1);
      return f?.bytes?.toString('utf8') ?? '0';
    }
    case 'time': {
      const fs = parseFields(r.bytes ?? Buffer.alloc(0));
      const secs = toInt(fs.find((x) => x.field === 1)?.varint);
      return secs === 0 ? undefined : new Date(secs * 1000).toISOString().replace('.000Z', 'Z');
    }
    case 'intstr': {
      const fs = parseFields(r.bytes ?? Buffer.alloc(0));
      const kind = toInt(fs.find((x) => x.field === 1)?.varint);
      return kind === 1 ? (fs.find((x) => x.field === 3)?.bytes?.toString('utf8') ?? '') : toInt(fs.find((x) => x.field === 2)?.varint);
    }
    case 'skip':
      return undefined;
  }
  return undefined;
}

function decodeMessage(msg: string, b: Buffer): Record<string, unknown> {
  const fields = SCHEMA.get(msg);
  if (!fields) throw unsupported(`message ${msg}`);
  const out: Record<string, unknown> = {};
  for (const r of parseFields(b)) {
    const def = fields.get(r.field);
    if (!def) {
      if (isEmpty(r) || (r.bytes && parseFields(r.bytes).every(isEmpty))) continue;
      throw unsupported(`field ${r.field} of ${msg}`);
    }
    if (def.type === 'skip') continue;
    if (def.map) {
      const entry = parseFields(r.bytes ?? Buffer.alloc(0));
      const k = entry.find((x) => x.field === 1)?.bytes?.toString('utf8') ?? '';
      const v = entry.find((x) => x.field === 2) ?? { field: 2, wire: 2, bytes: Buffer.alloc(0) };
      const m = (out[def.name] ??= {}) as Record<string, unknown>;
      m[k] = typeof def.type === 'string' ? scalar(def.type, v) : decodeMessage(def.type.msg, v.bytes ?? Buffer.alloc(0));
      continue;
    }
    let value: unknown;
    if (typeof def.type === 'string') {
      if (!def.repeated && !def.ptr && isEmpty(r)) continue;
      value = scalar(def.type, r);
      if (value === undefined) continue;
    } else value = decodeMessage(def.type.msg, r.bytes ?? Buffer.alloc(0));
    if (def.inline && value && typeof value === 'object') {
      Object.assign(out, value);
      continue;
    }
    if (def.repeated) ((out[def.name] ??= []) as unknown[]).push(value);
    else out[def.name] = value;
  }
  return out;
}

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

/** Decodes a `application/vnd.kubernetes.protobuf` request body into the JSON object it encodes. */
export function decodeKubernetesProtobuf(body: Buffer): Record<string, unknown> {
  if (body.length < 4 || !body.subarray(0, 4).equals(MAGIC)) throw unsupported('missing the k8s protobuf magic');
  const envelope = parseFields(body.subarray(4));
  const typeMeta = parseFields(envelope.find((f) => f.field === 1)?.bytes ?? Buffer.alloc(0));
  const apiVersion = typeMeta.find((f) => f.field === 1)?.bytes?.toString('utf8') ?? '';
  const kind = typeMeta.find((f) => f.field === 2)?.bytes?.toString('utf8') ?? '';
  const msg = TOP[`${apiVersion}/${kind}`];
  if (!msg) throw unsupported(`kind ${apiVersion}/${kind}`);
  const raw = envelope.find((f) => f.field === 2)?.bytes ?? Buffer.alloc(0);
  return { apiVersion, kind, ...decodeMessage(msg, raw) };
}
