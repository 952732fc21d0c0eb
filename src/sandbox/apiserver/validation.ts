import { quantityFromJson } from '../../kube/quantity.ts';
import type { KObject } from '../types.ts';
import { fieldErr } from './statusErrors.ts';
import type { FieldError } from './statusErrors.ts';
import { arr, deepEqual, isObject, obj } from './json.ts';
import type { JsonObject } from './json.ts';
import { matchLabelSelector } from './selectors.ts';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

const MSG_SUBDOMAIN =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const MSG_LABEL =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const MSG_DNS1035 =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const MSG_LABEL_VALUE =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const MSG_QUALIFIED =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

/** Names that are DNS labels (not subdomains) per kind; Services follow DNS-1035. */
const NAME_RULE: Record<string, 'label' | 'dns1035' | 'subdomain'> = { Namespace: 'label', Service: 'dns1035' };

function checkName(kind: string, name: string, errs: FieldError[]): void {
  const rule = NAME_RULE[kind] ?? 'subdomain';
  if (rule === 'subdomain') {
    if (name.length > 253) errs.push(fieldErr.invalid('metadata.name', name, 'must be no more than 253 characters'));
    else if (!DNS1123_SUBDOMAIN.test(name)) errs.push(fieldErr.invalid('metadata.name', name, MSG_SUBDOMAIN));
  } else if (rule === 'label') {
    if (name.length > 63) errs.push(fieldErr.invalid('metadata.name', name, 'must be no more than 63 characters'));
    else if (!DNS1123_LABEL.test(name)) errs.push(fieldErr.invalid('metadata.name', name, MSG_LABEL));
  } else if (name.length > 63) errs.push(fieldErr.invalid('metadata.name', name, 'must be no more than 63 characters'));
  else if (!DNS1035_LABEL.test(name)) errs.push(fieldErr.invalid('metadata.name', name, MSG_DNS1035));
}

function checkLabels(labels: unknown, field: string, errs: FieldError[]): void {
  for (const [k, v] of Object.entries(obj(labels))) {
    checkQualifiedKey(k, field, errs);
    if (typeof v !== 'string' || v.length > 63 || !LABEL_VALUE.test(v))
      errs.push(fieldErr.invalid(field, v, typeof v === 'string' && v.length > 63 ? 'must be no more than 63 characters' : MSG_LABEL_VALUE));
  }
}

function checkQualifiedKey(k: string, field: string, errs: FieldError[]): void {
  const slash = k.lastIndexOf('/');
  const prefix = slash >= 0 ? k.slice(0, slash) : '';
  const name = slash >= 0 ? k.slice(slash + 1) : k;
  if (prefix && !DNS1123_SUBDOMAIN.test(prefix)) errs.push(fieldErr.invalid(field, k, `prefix part ${MSG_SUBDOMAIN}`));
  if (!QUALIFIED_NAME.test(name) || name.length > 63) errs.push(fieldErr.invalid(field, k, MSG_QUALIFIED));
}

function checkMeta(o: KObject, errs: FieldError[]): void {
  const name = o.metadata.name;
  if (!name) errs.push(fieldErr.required('metadata.name', 'name or generateName is required'));
  else checkName(o.kind, name, errs);
  checkLabels(o.metadata.labels, 'metadata.labels', errs);
  for (const k of Object.keys(o.metadata.annotations ?? {})) checkQualifiedKey(k, 'metadata.annotations', errs);
}

function checkPort(v: unknown, field: string, errs: FieldError[], required = true): void {
  if (v === undefined) {
    if (required) errs.push(fieldErr.required(field));
    return;
  }
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 65535) errs.push(fieldErr.invalid(field, v, 'must be between 1 and 65535, inclusive'));
}

function checkIntOrStringPort(v: unknown, field: string, errs: FieldError[]): void {
  if (typeof v === 'number') checkPort(v, field, errs);
  else if (typeof v === 'string') {
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(v) || v.length > 15 || !/[a-z]/.test(v))
      errs.push(fieldErr.invalid(field, v, 'must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)'));
  }
}

function checkEnum(v: unknown, field: string, allowed: readonly string[], errs: FieldError[]): void {
  if (v !== undefined && !allowed.includes(String(v))) errs.push(fieldErr.notSupported(field, v, allowed));
}

const PROTOCOLS = ['SCTP', 'TCP', 'UDP'] as const;

function checkContainers(list: unknown, field: string, volumes: Set<string>, errs: FieldError[], required: boolean): void {
  const items = arr(list);
  if (required && items.length === 0) errs.push(fieldErr.required(field));
  const names = new Set<string>();
  items.forEach((raw, i) => {
    const c = obj(raw);
    const f = `${field}[${i}]`;
    const name = c['name'];
    if (typeof name !== 'string' || name === '') errs.push(fieldErr.required(`${f}.name`));
    else {
      if (!DNS1123_LABEL.test(name)) errs.push(fieldErr.invalid(`${f}.name`, name, MSG_LABEL));
      if (names.has(name)) errs.push(fieldErr.duplicate(`${f}.name`, name));
      names.add(name);
    }
    if (typeof c['image'] !== 'string' || c['image'].trim() === '') errs.push(fieldErr.required(`${f}.image`));
    checkEnum(c['imagePullPolicy'], `${f}.imagePullPolicy`, ['Always', 'IfNotPresent', 'Never'], errs);
    const portNames = new Set<string>();
    arr(c['ports']).forEach((p, j) => {
      const po = obj(p);
      checkPort(po['containerPort'], `${f}.ports[${j}].containerPort`, errs);
      checkPort(po['hostPort'], `${f}.ports[${j}].hostPort`, errs, false);
      checkEnum(po['protocol'], `${f}.ports[${j}].protocol`, PROTOCOLS, errs);
      if (typeof po['name'] === 'string') {
        if (portNames.has(po['name'])) errs.push(fieldErr.duplicate(`${f}.ports[${j}].name`, po['name']));
        portNames.add(po['name']);
      }
    });
    arr(c['env']).forEach((e, j) => {
      if (typeof obj(e)['name'] !== 'string' || obj(e)['name'] === '') errs.push(fieldErr.required(`${f}.env[${j}].name`));
    });
    arr(c['volumeMounts']).forEach((m, j) => {
      const mo = obj(m);
      if (typeof mo['name'] !== 'string' || !mo['name']) errs.push(fieldErr.required(`${f}.volumeMounts[${j}].name`));
      else if (!volumes.has(mo['name'])) errs.push({ type: 'FieldValueNotFound', field: `${f}.volumeMounts[${j}].name`, body: `Not found: ${JSON.stringify(mo['name'])}` });
      if (typeof mo['mountPath'] !== 'string' || !mo['mountPath']) errs.push(fieldErr.required(`${f}.volumeMounts[${j}].mountPath`));
    });
    for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
      const p = c[probe];
      if (!isObject(p)) continue;
      if (isObject(p['httpGet'])) checkIntOrStringPort(p['httpGet']['port'], `${f}.${probe}.httpGet.port`, errs);
      if (isObject(p['tcpSocket'])) checkIntOrStringPort(p['tcpSocket']['port'], `${f}.${probe}.tcpSocket.port`, errs);
    }
    const res = obj(c['resources']);
    for (const [k, lim] of Object.entries(obj(res['limits']))) {
      const req = obj(res['requests'])[k];
      const l = quantityFromJson(lim);
      const r = quantityFromJson(req);
      if (l !== undefined && r !== undefined && r > l)
        errs.push(fieldErr.invalid(`${f}.resources.requests`, String(req), `must be less than or equal to ${k} limit of ${String(lim)}`));
    }
  });
}

export function validatePodSpec(spec: JsonObject, field: string, errs: FieldError[], restartPolicies: readonly string[] = ['Always', 'OnFailure', 'Never'], claimTemplates: readonly string[] = []): void {
  // A StatefulSet's volumeClaimTemplates become volumes of its pods.
  const volumes = new Set<string>(claimTemplates);
  arr(spec['volumes']).forEach((v, i) => {
    const name = obj(v)['name'];
    if (typeof name !== 'string' || !name) errs.push(fieldErr.required(`${field}.volumes[${i}].name`));
    else {
      if (volumes.has(name)) errs.push(fieldErr.duplicate(`${field}.volumes[${i}].name`, name));
      else if (!DNS1123_LABEL.test(name)) errs.push(fieldErr.invalid(`${field}.volumes[${i}].name`, name, MSG_LABEL));
      volumes.add(name);
    }
  });
  checkContainers(spec['containers'], `${field}.containers`, volumes, errs, true);
  checkContainers(spec['initContainers'], `${field}.initContainers`, volumes, errs, false);
  const rp = spec['restartPolicy'];
  if (rp !== undefined && !restartPolicies.includes(String(rp))) {
    if (restartPolicies.length === 2) errs.push(fieldErr.required(`${field}.restartPolicy`, `valid values: ${restartPolicies.map((s) => JSON.stringify(s)).join(', ')}`));
    else errs.push(fieldErr.notSupported(`${field}.restartPolicy`, rp, restartPolicies));
  }
  checkEnum(spec['dnsPolicy'], `${field}.dnsPolicy`, ['ClusterFirst', 'ClusterFirstWithHostNet', 'Default', 'None'], errs);
  const tg = spec['terminationGracePeriodSeconds'];
  if (tg !== undefined && (typeof tg !== 'number' || tg < 0)) errs.push(fieldErr.invalid(`${field}.terminationGracePeriodSeconds`, tg, 'must be greater than or equal to 0'));
  const sa = spec['serviceAccountName'];
  if (typeof sa === 'string' && sa && !DNS1123_SUBDOMAIN.test(sa)) errs.push(fieldErr.invalid(`${field}.serviceAccountName`, sa, MSG_SUBDOMAIN));
}

/** Go's %#v rendering of map[string]string, which kube-apiserver prints for label maps. */
function goMap(m: unknown): string {
  const entries = Object.entries(obj(m)).sort(([a], [b]) => (a < b ? -1 : 1));
  return `map[string]string{${entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(', ')}}`;
}

function goLabelSelector(sel: unknown): string {
  const s = obj(sel);
  const ml = s['matchLabels'] === undefined ? 'map[string]string(nil)' : goMap(s['matchLabels']);
  const me = Array.isArray(s['matchExpressions']) ? `[]v1.LabelSelectorRequirement{...}` : '[]v1.LabelSelectorRequirement(nil)';
  return `v1.LabelSelector{MatchLabels:${ml}, MatchExpressions:${me}}`;
}

function validateWorkload(spec: JsonObject, kind: string, errs: FieldError[]): void {
  const sel = spec['selector'];
  const tmpl = obj(spec['template']);
  const labels = obj(obj(tmpl['metadata'])['labels']) as Record<string, string>;
  if (!isObject(sel)) errs.push(fieldErr.required('spec.selector'));
  else if (Object.keys(obj(sel['matchLabels'])).length === 0 && arr(sel['matchExpressions']).length === 0)
    errs.push(fieldErr.invalidGo('spec.selector', goLabelSelector(sel), `empty selector is invalid for ${kind.toLowerCase()}`));
  else if (!matchLabelSelector(sel, labels)) errs.push(fieldErr.invalidGo('spec.template.metadata.labels', goMap(labels), '`selector` does not match template `labels`'));
  const r = spec['replicas'];
  if (r !== undefined && (typeof r !== 'number' || !Number.isInteger(r) || r < 0)) errs.push(fieldErr.invalid('spec.replicas', r, 'must be greater than or equal to 0'));
  if (!isObject(spec['template'])) errs.push(fieldErr.required('spec.template'));
  else {
    checkLabels(labels, 'spec.template.metadata.labels', errs);
    const claims = kind === 'StatefulSet' ? arr(spec['volumeClaimTemplates']).map((c) => obj(obj(c)['metadata'])['name']).filter((n): n is string => typeof n === 'string') : [];
    validatePodSpec(obj(tmpl['spec']), 'spec.template.spec', errs, ['Always'], claims);
    arr(spec['volumeClaimTemplates']).forEach((c, i) => validateClaimSpec(obj(obj(c)['spec']), `spec.volumeClaimTemplates[${i}].spec`, errs));
  }
}

function immutable(oldV: unknown, newV: unknown, field: string, shown: string, errs: FieldError[], go = true): void {
  if (!deepEqual(oldV, newV)) errs.push(go ? fieldErr.invalidGo(field, shown, 'field is immutable') : fieldErr.invalid(field, shown, 'field is immutable'));
}

/** Validates an object on create (old undefined) or update; returns every field error found. */
export function validateObject(o: KObject, old: KObject | undefined): FieldError[] {
  const errs: FieldError[] = [];
  checkMeta(o, errs);
  const spec = obj(o['spec']);
  const oldSpec = obj(old?.['spec']);
  switch (o.kind) {
    case 'Pod': {
      validatePodSpec(spec, 'spec', errs);
      if (old) {
        const strip = (s: JsonObject): JsonObject => {
          const c = JSON.parse(JSON.stringify(s)) as JsonObject;
          for (const k of ['containers', 'initContainers']) for (const x of arr(c[k])) delete obj(x)['image'];
          delete c['activeDeadlineSeconds'];
          delete c['tolerations'];
          delete c['terminationGracePeriodSeconds'];
          // The scheduler's binding sets nodeName once.
          if (!oldSpec['nodeName']) delete c['nodeName'];
          return c;
        };
        if (!deepEqual(strip(spec), strip(oldSpec)))
          errs.push(
            fieldErr.forbidden(
              'spec',
              'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
            ),
          );
      }
      break;
    }
    case 'Deployment':
    case 'ReplicaSet':
    case 'StatefulSet':
    case 'DaemonSet':
      validateWorkload(spec, o.kind, errs);
      if (o.kind === 'Deployment') {
        const st = obj(spec['strategy']);
        checkEnum(st['type'], 'spec.strategy.type', ['Recreate', 'RollingUpdate'], errs);
        if (st['type'] === 'Recreate' && st['rollingUpdate'] !== undefined)
          errs.push(fieldErr.forbidden('spec.strategy.rollingUpdate', 'may not be specified when strategy `type` is \'Recreate\''));
      }
      if (old && isObject(oldSpec['selector'])) immutable(oldSpec['selector'], spec['selector'], 'spec.selector', goLabelSelector(spec['selector']), errs);
      break;
    case 'Job':
      validateJobSpec(spec, 'spec', errs);
      if (old) immutable(oldSpec['template'], spec['template'], 'spec.template', 'core.PodTemplateSpec{...}', errs);
      break;
    case 'CronJob': {
      const sched = spec['schedule'];
      if (typeof sched !== 'string' || !sched) errs.push(fieldErr.required('spec.schedule'));
      else if (!/^@(yearly|annually|monthly|weekly|daily|midnight|hourly|every .+)$/.test(sched) && sched.trim().split(/\s+/).length !== 5)
        errs.push(fieldErr.invalid('spec.schedule', sched, `unparseable schedule: expected exactly 5 fields, found ${sched.trim().split(/\s+/).length}: ${JSON.stringify(sched)}`));
      checkEnum(spec['concurrencyPolicy'], 'spec.concurrencyPolicy', ['Allow', 'Forbid', 'Replace'], errs);
      validateJobSpec(obj(obj(spec['jobTemplate'])['spec']), 'spec.jobTemplate.spec', errs);
      break;
    }
    case 'Service':
      validateService(spec, errs);
      if (old && oldSpec['clusterIP'] && oldSpec['type'] !== 'ExternalName' && spec['type'] !== 'ExternalName')
        immutable(oldSpec['clusterIP'], spec['clusterIP'], 'spec.clusterIP', String(spec['clusterIP'] ?? ''), errs, false);
      break;
    case 'ConfigMap':
    case 'Secret':
      if (old && old['immutable'] === true) {
        for (const key of ['data', 'binaryData'])
          if (!deepEqual(old[key], o[key])) errs.push(fieldErr.forbidden(key, 'field is immutable when `immutable` is set'));
        if (o['immutable'] !== true) errs.push(fieldErr.forbidden('immutable', 'field is immutable when `immutable` is set'));
      }
      for (const key of ['data', 'binaryData', 'stringData'])
        for (const k of Object.keys(obj(o[key])))
          if (!/^[-._a-zA-Z0-9]+$/.test(k))
            errs.push(fieldErr.invalid(key, k, "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"));
      break;
    case 'HorizontalPodAutoscaler': {
      const ref = obj(spec['scaleTargetRef']);
      if (!ref['kind']) errs.push(fieldErr.required('spec.scaleTargetRef.kind'));
      if (!ref['name']) errs.push(fieldErr.required('spec.scaleTargetRef.name'));
      const max = spec['maxReplicas'];
      const min = spec['minReplicas'];
      if (typeof max !== 'number') errs.push(fieldErr.required('spec.maxReplicas'));
      else if (max < 1) errs.push(fieldErr.invalid('spec.maxReplicas', max, 'must be greater than or equal to 1'));
      if (typeof min === 'number' && min < 1) errs.push(fieldErr.invalid('spec.minReplicas', min, 'must be greater than or equal to 1'));
      if (typeof min === 'number' && typeof max === 'number' && max < min) errs.push(fieldErr.invalid('spec.maxReplicas', max, 'must be greater than or equal to `minReplicas`'));
      break;
    }
    case 'PodDisruptionBudget':
      if (spec['minAvailable'] !== undefined && spec['maxUnavailable'] !== undefined)
        errs.push(fieldErr.invalid('spec', spec, 'minAvailable and maxUnavailable cannot be both set'));
      break;
    case 'Ingress':
      arr(spec['rules']).forEach((r, i) =>
        arr(obj(obj(r)['http'])['paths']).forEach((p, j) => {
          const po = obj(p);
          const f = `spec.rules[${i}].http.paths[${j}]`;
          checkEnum(po['pathType'], `${f}.pathType`, ['Exact', 'ImplementationSpecific', 'Prefix'], errs);
          if (typeof po['path'] === 'string' && po['pathType'] !== 'ImplementationSpecific' && !po['path'].startsWith('/'))
            errs.push(fieldErr.invalid(`${f}.path`, po['path'], 'must be an absolute path'));
          const svc = obj(obj(po['backend'])['service']);
          if (!isObject(obj(po['backend'])['service']) && !isObject(obj(po['backend'])['resource'])) errs.push(fieldErr.required(`${f}.backend`, 'exactly one backend must be specified'));
          else if (isObject(obj(po['backend'])['service'])) {
            const port = obj(svc['port']);
            if (port['number'] !== undefined) checkPort(port['number'], `${f}.backend.service.port.number`, errs);
          }
        }),
      );
      break;
    case 'PersistentVolumeClaim':
      validateClaimSpec(spec, 'spec', errs);
      if (old) {
        // Only the binder's volumeName (once) and a resize may change a claim's spec.
        const rest = (x: JsonObject): JsonObject => Object.fromEntries(Object.entries(x).filter(([k]) => k !== 'resources' && k !== 'volumeName'));
        const renamed = oldSpec['volumeName'] !== undefined && oldSpec['volumeName'] !== spec['volumeName'];
        if (renamed || !deepEqual(rest(spec), rest(oldSpec))) errs.push(fieldErr.forbidden('spec', 'spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims'));
      }
      break;
    case 'PersistentVolume':
      if (!isObject(spec['capacity']) || obj(spec['capacity'])['storage'] === undefined) errs.push(fieldErr.required('spec.capacity'));
      if (arr(spec['accessModes']).length === 0) errs.push(fieldErr.required('spec.accessModes'));
      if (!isObject(spec['hostPath']) && !isObject(spec['local'])) errs.push(fieldErr.required('spec', 'must specify a volume type'));
      break;
    case 'NetworkPolicy':
      for (const t of arr(spec['policyTypes'])) checkEnum(t, 'spec.policyTypes', ['Ingress', 'Egress'], errs);
      for (const dir of ['ingress', 'egress'])
        arr(spec[dir]).forEach((r, i) =>
          arr(obj(r)['ports']).forEach((p, j) => {
            checkEnum(obj(p)['protocol'], `spec.${dir}[${i}].ports[${j}].protocol`, PROTOCOLS, errs);
            if (typeof obj(p)['port'] === 'number') checkPort(obj(p)['port'], `spec.${dir}[${i}].ports[${j}].port`, errs);
          }),
        );
      break;
    default:
      break;
  }
  return errs;
}

const ACCESS_MODES = ['ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOnce', 'ReadWriteOncePod'];

function validateClaimSpec(spec: JsonObject, field: string, errs: FieldError[]): void {
  const modes = arr(spec['accessModes']);
  if (modes.length === 0) errs.push(fieldErr.required(`${field}.accessModes`, 'at least 1 access mode is required'));
  for (const m of modes) checkEnum(m, `${field}.accessModes`, ACCESS_MODES, errs);
  if (obj(obj(spec['resources'])['requests'])['storage'] === undefined) errs.push(fieldErr.required(`${field}.resources[storage]`));
}

function validateJobSpec(spec: JsonObject, field: string, errs: FieldError[]): void {
  if (!isObject(spec['template'])) {
    errs.push(fieldErr.required(`${field}.template`));
    return;
  }
  const tspec = obj(obj(spec['template'])['spec']);
  validatePodSpec(tspec, `${field}.template.spec`, errs, ['OnFailure', 'Never']);
  for (const k of ['backoffLimit', 'completions', 'parallelism', 'activeDeadlineSeconds', 'ttlSecondsAfterFinished']) {
    const v = spec[k];
    if (v !== undefined && (typeof v !== 'number' || v < 0)) errs.push(fieldErr.invalid(`${field}.${k}`, v, 'must be greater than or equal to 0'));
  }
}

function validateService(spec: JsonObject, errs: FieldError[]): void {
  const type = spec['type'];
  checkEnum(type, 'spec.type', ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'], errs);
  checkEnum(spec['sessionAffinity'], 'spec.sessionAffinity', ['ClientIP', 'None'], errs);
  const ports = arr(spec['ports']);
  if (type === 'ExternalName') {
    if (!spec['externalName']) errs.push(fieldErr.required('spec.externalName'));
    return;
  }
  if (ports.length === 0 && spec['clusterIP'] !== 'None') errs.push(fieldErr.required('spec.ports'));
  const names = new Set<string>();
  ports.forEach((p, i) => {
    const po = obj(p);
    const f = `spec.ports[${i}]`;
    if (ports.length > 1 && (typeof po['name'] !== 'string' || po['name'] === '')) errs.push(fieldErr.required(`${f}.name`));
    if (typeof po['name'] === 'string' && po['name']) {
      if (names.has(po['name'])) errs.push(fieldErr.duplicate(`${f}.name`, po['name']));
      else if (!DNS1123_LABEL.test(po['name'])) errs.push(fieldErr.invalid(`${f}.name`, po['name'], MSG_LABEL));
      names.add(po['name']);
    }
    checkPort(po['port'], `${f}.port`, errs);
    checkEnum(po['protocol'], `${f}.protocol`, PROTOCOLS, errs);
    checkIntOrStringPort(po['targetPort'], `${f}.targetPort`, errs);
    if (po['nodePort'] !== undefined && type !== 'NodePort' && type !== 'LoadBalancer')
      errs.push(fieldErr.forbidden(`${f}.nodePort`, 'may not be used when `type` is \'ClusterIP\''));
  });
}
