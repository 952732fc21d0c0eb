import type { KObject } from '../types.ts';
import { arr, child, isObject, obj } from './json.ts';
import type { JsonObject } from './json.ts';

/** kube-apiserver's defaulting (SetDefaults_*) for the fields berth and kubectl read back. */
export function applyDefaults(o: KObject): void {
  const spec = isObject(o['spec']) ? o['spec'] : undefined;
  switch (o.kind) {
    case 'Pod':
      if (spec) defaultPodSpec(spec);
      break;
    case 'Deployment':
      if (spec) {
        spec['replicas'] ??= 1;
        spec['revisionHistoryLimit'] ??= 10;
        spec['progressDeadlineSeconds'] ??= 600;
        const strategy = child(spec, 'strategy');
        strategy['type'] ??= 'RollingUpdate';
        if (strategy['type'] === 'RollingUpdate') {
          const ru = child(strategy, 'rollingUpdate');
          ru['maxUnavailable'] ??= '25%';
          ru['maxSurge'] ??= '25%';
        }
        defaultTemplate(spec);
      }
      break;
    case 'ReplicaSet':
    case 'StatefulSet':
    case 'DaemonSet':
      if (spec) {
        if (o.kind !== 'DaemonSet') spec['replicas'] ??= 1;
        if (o.kind === 'StatefulSet') {
          spec['podManagementPolicy'] ??= 'OrderedReady';
          spec['revisionHistoryLimit'] ??= 10;
          const us = child(spec, 'updateStrategy');
          us['type'] ??= 'RollingUpdate';
          if (us['type'] === 'RollingUpdate') child(us, 'rollingUpdate')['partition'] ??= 0;
        }
        if (o.kind === 'DaemonSet') {
          spec['revisionHistoryLimit'] ??= 10;
          const us = child(spec, 'updateStrategy');
          us['type'] ??= 'RollingUpdate';
        }
        defaultTemplate(spec);
      }
      break;
    case 'Job':
      if (spec) defaultJobSpec(spec, o.metadata.labels);
      break;
    case 'CronJob':
      if (spec) {
        spec['concurrencyPolicy'] ??= 'Allow';
        spec['suspend'] ??= false;
        spec['successfulJobsHistoryLimit'] ??= 3;
        spec['failedJobsHistoryLimit'] ??= 1;
        const jt = child(spec, 'jobTemplate');
        if (isObject(jt['spec'])) defaultJobSpec(jt['spec'], undefined);
      }
      break;
    case 'Service':
      if (spec) defaultServiceSpec(spec);
      break;
    case 'Namespace': {
      const name = o.metadata.name ?? '';
      o.metadata.labels = { ...(o.metadata.labels ?? {}), 'kubernetes.io/metadata.name': name };
      const s = (o['spec'] = obj(o['spec']));
      if (!Array.isArray(s['finalizers'])) s['finalizers'] = ['kubernetes'];
      const st = (o['status'] = obj(o['status']));
      st['phase'] ??= 'Active';
      break;
    }
    case 'HorizontalPodAutoscaler':
      if (spec) {
        spec['minReplicas'] ??= 1;
        if (!Array.isArray(spec['metrics']))
          spec['metrics'] = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }];
      }
      break;
    case 'Secret': {
      o['type'] ??= 'Opaque';
      // stringData is write-only: kube-apiserver folds it into data.
      const sd = o['stringData'];
      if (isObject(sd)) {
        const data = obj(o['data']);
        for (const [k, v] of Object.entries(sd)) data[k] = Buffer.from(String(v), 'utf8').toString('base64');
        o['data'] = data;
        delete o['stringData'];
      }
      break;
    }
    case 'Ingress':
      for (const r of arr(spec?.['rules'])) for (const p of arr(obj(obj(r)['http'])['paths'])) if (isObject(p)) p['pathType'] ??= 'ImplementationSpecific';
      break;
    case 'NetworkPolicy':
      if (spec) {
        if (!Array.isArray(spec['policyTypes'])) {
          const types = ['Ingress'];
          if (Array.isArray(spec['egress'])) types.push('Egress');
          spec['policyTypes'] = types;
        }
        for (const dir of ['ingress', 'egress'])
          for (const rule of arr(spec[dir])) for (const p of arr(obj(rule)['ports'])) if (isObject(p)) p['protocol'] ??= 'TCP';
      }
      break;
    case 'PersistentVolumeClaim':
      if (spec) spec['volumeMode'] ??= 'Filesystem';
      obj((o['status'] = obj(o['status'])))['phase'] ??= 'Pending';
      break;
    case 'PersistentVolume':
      if (spec) {
        // Statically created volumes are kept; a provisioner writes its class's policy (Delete).
        spec['persistentVolumeReclaimPolicy'] ??= 'Retain';
        spec['volumeMode'] ??= 'Filesystem';
      }
      obj((o['status'] = obj(o['status'])))['phase'] ??= 'Pending';
      break;
    case 'StorageClass':
      o['reclaimPolicy'] ??= 'Delete';
      o['volumeBindingMode'] ??= 'Immediate';
      break;
    case 'PodDisruptionBudget':
      break;
    case 'Node':
      break;
    default:
      break;
  }
}

function defaultTemplate(spec: JsonObject): void {
  dropZeros(spec, OMITTED_WHEN_ZERO.workloadSpec);
  const t = spec['template'];
  if (isObject(t) && isObject(t['spec'])) defaultPodSpec(t['spec']);
}

function defaultJobSpec(spec: JsonObject, _labels: Record<string, string> | undefined): void {
  spec['backoffLimit'] ??= 6;
  spec['completions'] ??= 1;
  spec['parallelism'] ??= 1;
  spec['completionMode'] ??= 'NonIndexed';
  spec['suspend'] ??= false;
  spec['podReplacementPolicy'] ??= 'TerminatingOrFailed';
  defaultTemplate(spec);
}

function defaultServiceSpec(spec: JsonObject): void {
  dropZeros(spec, OMITTED_WHEN_ZERO.serviceSpec);
  for (const p of arr(spec['ports'])) if (isObject(p)) dropZeros(p, OMITTED_WHEN_ZERO.servicePort);
  spec['type'] ??= 'ClusterIP';
  spec['sessionAffinity'] ??= 'None';
  if (spec['type'] !== 'ExternalName') {
    spec['internalTrafficPolicy'] ??= 'Cluster';
    spec['ipFamilies'] ??= ['IPv4'];
    spec['ipFamilyPolicy'] ??= 'SingleStack';
  }
  if (spec['type'] === 'NodePort' || spec['type'] === 'LoadBalancer') spec['externalTrafficPolicy'] ??= 'Cluster';
  for (const p of arr(spec['ports'])) {
    if (!isObject(p)) continue;
    p['protocol'] ??= 'TCP';
    p['targetPort'] ??= p['port'];
  }
}

/**
 * Fields the real API server never stores at their zero value: Go fields without a pointer and with
 * `omitempty` (k8s.io/api), so `initialDelaySeconds: 0` written by a client reads back absent. A
 * sandbox that kept them would hide the endless drift such a field causes against a real cluster.
 */
const OMITTED_WHEN_ZERO = {
  probe: ['initialDelaySeconds'],
  container: ['stdin', 'stdinOnce', 'tty'],
  containerPort: ['hostPort'],
  volumeMount: ['readOnly'],
  podSpec: ['hostNetwork', 'hostPID', 'hostIPC'],
  workloadSpec: ['minReadySeconds', 'paused'],
  serviceSpec: ['publishNotReadyAddresses'],
  servicePort: ['nodePort'],
} as const;

function dropZeros(o: JsonObject, fields: readonly string[]): void {
  for (const f of fields) if (o[f] === 0 || o[f] === false || o[f] === '') delete o[f];
}

function defaultContainer(c: JsonObject): void {
  dropZeros(c, OMITTED_WHEN_ZERO.container);
  for (const p of arr(c['ports'])) if (isObject(p)) dropZeros(p, OMITTED_WHEN_ZERO.containerPort);
  for (const m of arr(c['volumeMounts'])) if (isObject(m)) dropZeros(m, OMITTED_WHEN_ZERO.volumeMount);
  c['terminationMessagePath'] ??= '/dev/termination-log';
  c['terminationMessagePolicy'] ??= 'File';
  if (c['imagePullPolicy'] === undefined) {
    const image = typeof c['image'] === 'string' ? c['image'] : '';
    const lastPart = image.split('@')[0]?.split('/').pop() ?? '';
    const tag = lastPart.includes(':') ? lastPart.slice(lastPart.indexOf(':') + 1) : '';
    c['imagePullPolicy'] = image.includes('@') ? 'IfNotPresent' : tag === '' || tag === 'latest' ? 'Always' : 'IfNotPresent';
  }
  for (const p of arr(c['ports'])) if (isObject(p)) p['protocol'] ??= 'TCP';
  c['resources'] ??= {};
  const res = obj(c['resources']);
  // Requests default to limits when only limits are given.
  if (isObject(res['limits'])) res['requests'] = { ...res['limits'], ...obj(res['requests']) };
  for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
    const p = c[probe];
    if (!isObject(p)) continue;
    dropZeros(p, OMITTED_WHEN_ZERO.probe);
    p['timeoutSeconds'] ??= 1;
    p['periodSeconds'] ??= 10;
    p['successThreshold'] ??= 1;
    p['failureThreshold'] ??= 3;
    if (isObject(p['httpGet'])) p['httpGet']['scheme'] ??= 'HTTP';
    if (isObject(p['httpGet'])) p['httpGet']['path'] ??= '/';
  }
}

export function defaultPodSpec(spec: JsonObject): void {
  dropZeros(spec, OMITTED_WHEN_ZERO.podSpec);
  spec['restartPolicy'] ??= 'Always';
  spec['terminationGracePeriodSeconds'] ??= 30;
  spec['dnsPolicy'] ??= 'ClusterFirst';
  spec['securityContext'] ??= {};
  spec['schedulerName'] ??= 'default-scheduler';
  spec['enableServiceLinks'] ??= true;
  if (spec['serviceAccountName'] === undefined && spec['serviceAccount'] !== undefined) spec['serviceAccountName'] = spec['serviceAccount'];
  for (const key of ['containers', 'initContainers']) for (const c of arr(spec[key])) if (isObject(c)) defaultContainer(c);
  for (const v of arr(spec['volumes'])) {
    if (!isObject(v)) continue;
    for (const src of ['configMap', 'secret']) {
      const s = v[src];
      if (isObject(s)) s['defaultMode'] ??= 420;
    }
  }
}

/** Defaults only the API server applies to stored pods (not to templates). */
export function defaultPodOnCreate(pod: KObject, serviceAccountExists: boolean): void {
  const spec = obj(pod['spec']);
  if (spec['serviceAccountName'] === undefined && serviceAccountExists) spec['serviceAccountName'] = 'default';
  spec['priority'] ??= 0;
  if (!Array.isArray(spec['tolerations'])) {
    spec['tolerations'] = [
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    ];
  }
  const st = (pod['status'] = obj(pod['status']));
  st['phase'] ??= 'Pending';
  st['qosClass'] ??= qosClass(spec);
}

function qosClass(spec: JsonObject): string {
  let anyReq = false;
  let guaranteed = true;
  for (const c of arr(spec['containers'])) {
    const r = obj(obj(c)['resources']);
    const req = obj(r['requests']);
    const lim = obj(r['limits']);
    if (Object.keys(req).length || Object.keys(lim).length) anyReq = true;
    for (const k of ['cpu', 'memory']) if (lim[k] === undefined || req[k] !== lim[k]) guaranteed = false;
  }
  if (!anyReq) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}
