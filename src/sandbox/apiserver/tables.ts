import type { KObject } from '../types.ts';
import { arr, obj } from './json.ts';

interface Column {
  name: string;
  type: string;
  format?: string;
  description: string;
  priority: number;
  cell: (o: KObject) => unknown;
}

/** Human age as kubectl prints it (duration.HumanDuration, shortened). */
export function age(ts: string | undefined, now = Date.now()): string {
  if (!ts) return '<unknown>';
  const s = Math.max(0, Math.floor((now - Date.parse(ts)) / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return `${m}m${s % 60 ? `${s % 60}s` : ''}`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return `${h}h${m % 60 ? `${m % 60}m` : ''}`;
  if (h < 48) return `${h}h`;
  const d = Math.floor(h / 24);
  if (d < 8) return `${d}d${h % 24 ? `${h % 24}h` : ''}`;
  return `${d}d`;
}

const name: Column = { name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace.', priority: 0, cell: (o) => o.metadata.name ?? '' };
const ageCol: Column = { name: 'Age', type: 'string', description: 'CreationTimestamp is a timestamp representing the server time when this object was created.', priority: 0, cell: (o) => age(o.metadata.creationTimestamp) };

const num = (v: unknown): number => (typeof v === 'number' ? v : 0);

function podStatus(o: KObject): { ready: string; status: string; restarts: number } {
  const st = obj(o['status']);
  const cs = arr(st['containerStatuses']).map(obj);
  const total = arr(obj(o['spec'])['containers']).length;
  const ready = cs.filter((c) => c['ready'] === true).length;
  let reason = String(st['reason'] ?? st['phase'] ?? 'Pending');
  for (const c of arr(st['initContainerStatuses']).map(obj)) {
    const w = obj(obj(c['state'])['waiting']);
    if (w['reason']) reason = `Init:${String(w['reason'])}`;
  }
  for (const c of cs) {
    const state = obj(c['state']);
    const w = obj(state['waiting']);
    const t = obj(state['terminated']);
    if (w['reason']) reason = String(w['reason']);
    else if (t['reason']) reason = String(t['reason']);
  }
  if (o.metadata.deletionTimestamp) reason = 'Terminating';
  return { ready: `${ready}/${total}`, status: reason, restarts: cs.reduce((a, c) => a + num(c['restartCount']), 0) };
}

function ports(o: KObject): string {
  const p = arr(obj(o['spec'])['ports']).map(obj);
  if (!p.length) return '<none>';
  return p.map((x) => `${String(x['port'])}${x['nodePort'] ? `:${String(x['nodePort'])}` : ''}/${String(x['protocol'] ?? 'TCP')}`).join(',');
}

function selector(o: KObject): string {
  const sel = obj(obj(o['spec'])['selector']);
  const ml = obj(sel['matchLabels'] ?? sel);
  const parts = Object.entries(ml)
    .filter(([, v]) => typeof v === 'string')
    .map(([k, v]) => `${k}=${String(v)}`);
  return parts.length ? parts.join(',') : '<none>';
}

function images(o: KObject): { containers: string; images: string } {
  const cs = arr(obj(obj(obj(o['spec'])['template'])['spec'])['containers']).map(obj);
  return { containers: cs.map((c) => String(c['name'])).join(','), images: cs.map((c) => String(c['image'])).join(',') };
}

const MODES: Record<string, string> = { ReadWriteOnce: 'RWO', ReadOnlyMany: 'ROX', ReadWriteMany: 'RWX', ReadWriteOncePod: 'RWOP' };
const accessModes = (o: KObject, from: 'spec' | 'status'): string => arr(obj(o[from])['accessModes']).map((m) => MODES[String(m)] ?? String(m)).join(',');
const col = (title: string, cell: (o: KObject) => unknown, description = title): Column => ({ name: title, type: 'string', description, priority: 0, cell });

const COLUMNS: Record<string, Column[]> = {
  PersistentVolumeClaim: [
    name,
    col('Status', (o) => String(obj(o['status'])['phase'] ?? 'Pending')),
    col('Volume', (o) => String(obj(o['spec'])['volumeName'] ?? '')),
    col('Capacity', (o) => String(obj(obj(o['status'])['capacity'])['storage'] ?? '')),
    col('Access Modes', (o) => accessModes(o, 'status')),
    col('StorageClass', (o) => String(obj(o['spec'])['storageClassName'] ?? '<unset>')),
    col('VolumeAttributesClass', () => '<unset>'),
    ageCol,
  ],
  PersistentVolume: [
    name,
    col('Capacity', (o) => String(obj(obj(o['spec'])['capacity'])['storage'] ?? '')),
    col('Access Modes', (o) => accessModes(o, 'spec')),
    col('Reclaim Policy', (o) => String(obj(o['spec'])['persistentVolumeReclaimPolicy'] ?? '')),
    col('Status', (o) => String(obj(o['status'])['phase'] ?? '')),
    col('Claim', (o) => {
      const ref = obj(obj(o['spec'])['claimRef']);
      return ref['name'] ? `${String(ref['namespace'])}/${String(ref['name'])}` : '';
    }),
    col('StorageClass', (o) => String(obj(o['spec'])['storageClassName'] ?? '')),
    col('VolumeAttributesClass', () => '<unset>'),
    col('Reason', (o) => String(obj(o['status'])['reason'] ?? '')),
    ageCol,
  ],
  StorageClass: [
    { ...name, cell: (o) => `${o.metadata.name ?? ''}${o.metadata.annotations?.['storageclass.kubernetes.io/is-default-class'] === 'true' ? ' (default)' : ''}` },
    col('Provisioner', (o) => String(o['provisioner'] ?? '')),
    col('ReclaimPolicy', (o) => String(o['reclaimPolicy'] ?? 'Delete')),
    col('VolumeBindingMode', (o) => String(o['volumeBindingMode'] ?? 'Immediate')),
    { name: 'AllowVolumeExpansion', type: 'boolean', description: 'Whether claims may grow.', priority: 0, cell: (o) => o['allowVolumeExpansion'] === true },
    ageCol,
  ],
  Pod: [
    name,
    { name: 'Ready', type: 'string', description: 'The aggregate readiness state of this pod for accepting traffic.', priority: 0, cell: (o) => podStatus(o).ready },
    { name: 'Status', type: 'string', description: 'The aggregate status of the containers in this pod.', priority: 0, cell: (o) => podStatus(o).status },
    { name: 'Restarts', type: 'string', description: 'The number of times the containers in this pod have been restarted.', priority: 0, cell: (o) => String(podStatus(o).restarts) },
    ageCol,
    { name: 'IP', type: 'string', description: 'IP address allocated to the pod.', priority: 1, cell: (o) => String(obj(o['status'])['podIP'] ?? '<none>') },
    { name: 'Node', type: 'string', description: 'Name of the node the pod is assigned to.', priority: 1, cell: (o) => String(obj(o['spec'])['nodeName'] ?? '<none>') },
  ],
  Deployment: [
    name,
    { name: 'Ready', type: 'string', description: 'Number of the pod with ready state', priority: 0, cell: (o) => `${num(obj(o['status'])['readyReplicas'])}/${num(obj(o['spec'])['replicas'])}` },
    { name: 'Up-to-date', type: 'integer', description: 'Total number of non-terminated pods targeted by this deployment that have the desired template spec.', priority: 0, cell: (o) => num(obj(o['status'])['updatedReplicas']) },
    { name: 'Available', type: 'integer', description: 'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.', priority: 0, cell: (o) => num(obj(o['status'])['availableReplicas']) },
    ageCol,
    { name: 'Containers', type: 'string', description: 'Names of each container in the template.', priority: 1, cell: (o) => images(o).containers },
    { name: 'Images', type: 'string', description: 'Images referenced by each container in the template.', priority: 1, cell: (o) => images(o).images },
    { name: 'Selector', type: 'string', description: 'Label selector for pods.', priority: 1, cell: selector },
  ],
  ReplicaSet: [
    name,
    { name: 'Desired', type: 'integer', description: 'Number of desired pods.', priority: 0, cell: (o) => num(obj(o['spec'])['replicas']) },
    { name: 'Current', type: 'integer', description: 'Number of actual replicas.', priority: 0, cell: (o) => num(obj(o['status'])['replicas']) },
    { name: 'Ready', type: 'integer', description: 'Number of ready replicas.', priority: 0, cell: (o) => num(obj(o['status'])['readyReplicas']) },
    ageCol,
  ],
  Service: [
    name,
    { name: 'Type', type: 'string', description: 'Service type.', priority: 0, cell: (o) => String(obj(o['spec'])['type'] ?? 'ClusterIP') },
    { name: 'Cluster-IP', type: 'string', description: 'Cluster IP.', priority: 0, cell: (o) => String(obj(o['spec'])['clusterIP'] ?? '<none>') },
    { name: 'External-IP', type: 'string', description: 'External IP.', priority: 0, cell: (o) => (obj(o['spec'])['type'] === 'LoadBalancer' ? '<pending>' : '<none>') },
    { name: 'Port(s)', type: 'string', description: 'Ports.', priority: 0, cell: ports },
    ageCol,
    { name: 'Selector', type: 'string', description: 'Selector.', priority: 1, cell: selector },
  ],
  Node: [
    name,
    {
      name: 'Status',
      type: 'string',
      description: 'The status of the node',
      priority: 0,
      cell: (o) => (arr(obj(o['status'])['conditions']).some((c) => obj(c)['type'] === 'Ready' && obj(c)['status'] === 'True') ? 'Ready' : 'NotReady'),
    },
    { name: 'Roles', type: 'string', description: 'The roles of the node', priority: 0, cell: () => '<none>' },
    ageCol,
    { name: 'Version', type: 'string', description: 'Kubelet Version reported by the node.', priority: 0, cell: (o) => String(obj(obj(o['status'])['nodeInfo'])['kubeletVersion'] ?? '') },
  ],
  Namespace: [name, { name: 'Status', type: 'string', description: 'The status of the namespace', priority: 0, cell: (o) => String(obj(o['status'])['phase'] ?? '') }, ageCol],
  Job: [
    name,
    { name: 'Status', type: 'string', description: 'Status of the job.', priority: 0, cell: (o) => jobStatus(o) },
    { name: 'Completions', type: 'string', description: 'The completion status of the job.', priority: 0, cell: (o) => `${num(obj(o['status'])['succeeded'])}/${num(obj(o['spec'])['completions'] ?? 1)}` },
    { name: 'Duration', type: 'string', description: 'Time required to complete the job.', priority: 0, cell: (o) => age(String(obj(o['status'])['startTime'] ?? o.metadata.creationTimestamp)) },
    ageCol,
  ],
  Event: [
    { name: 'Last Seen', type: 'string', description: 'Time of the last occurrence.', priority: 0, cell: (o) => age(String(o['lastTimestamp'] ?? o['eventTime'] ?? o.metadata.creationTimestamp)) },
    { name: 'Type', type: 'string', description: 'Type of this event (Normal, Warning).', priority: 0, cell: (o) => String(o['type'] ?? '') },
    { name: 'Reason', type: 'string', description: 'Why the action was taken.', priority: 0, cell: (o) => String(o['reason'] ?? '') },
    {
      name: 'Object',
      type: 'string',
      description: 'The object this event is about.',
      priority: 0,
      cell: (o) => {
        const io = obj(o['involvedObject'] ?? o['regarding']);
        return `${String(io['kind'] ?? '').toLowerCase()}/${String(io['name'] ?? '')}`;
      },
    },
    { name: 'Message', type: 'string', description: 'A human-readable description of the status of this operation.', priority: 0, cell: (o) => String(o['message'] ?? o['note'] ?? '') },
  ],
  ConfigMap: [name, { name: 'Data', type: 'string', description: 'Number of data items.', priority: 0, cell: (o) => String(Object.keys(obj(o['data'])).length + Object.keys(obj(o['binaryData'])).length) }, ageCol],
  Secret: [
    name,
    { name: 'Type', type: 'string', description: 'The type of the secret', priority: 0, cell: (o) => String(o['type'] ?? 'Opaque') },
    { name: 'Data', type: 'string', description: 'Number of data items.', priority: 0, cell: (o) => String(Object.keys(obj(o['data'])).length) },
    ageCol,
  ],
  CronJob: [
    name,
    { name: 'Schedule', type: 'string', description: 'The schedule in Cron format.', priority: 0, cell: (o) => String(obj(o['spec'])['schedule'] ?? '') },
    { name: 'Timezone', type: 'string', description: 'The time zone of the schedule.', priority: 0, cell: (o) => String(obj(o['spec'])['timeZone'] ?? '<none>') },
    { name: 'Suspend', type: 'boolean', description: 'Whether new jobs are suspended.', priority: 0, cell: (o) => obj(o['spec'])['suspend'] === true },
    { name: 'Active', type: 'integer', description: 'Number of running jobs.', priority: 0, cell: (o) => arr(obj(o['status'])['active']).length },
    { name: 'Last Schedule', type: 'string', description: 'When a job was last scheduled.', priority: 0, cell: (o) => (obj(o['status'])['lastScheduleTime'] ? age(String(obj(o['status'])['lastScheduleTime'])) : '<none>') },
    ageCol,
  ],
  Ingress: [
    name,
    { name: 'Class', type: 'string', description: 'The ingress class.', priority: 0, cell: (o) => String(obj(o['spec'])['ingressClassName'] ?? '<none>') },
    { name: 'Hosts', type: 'string', description: 'Hosts of the rules.', priority: 0, cell: (o) => arr(obj(o['spec'])['rules']).map((r) => String(obj(r)['host'] ?? '*')).join(',') || '*' },
    {
      name: 'Address',
      type: 'string',
      description: 'Load balancer addresses.',
      priority: 0,
      cell: (o) => arr(obj(obj(o['status'])['loadBalancer'])['ingress']).map((i) => String(obj(i)['ip'] ?? obj(i)['hostname'] ?? '')).join(','),
    },
    { name: 'Ports', type: 'string', description: 'Ports.', priority: 0, cell: (o) => (arr(obj(o['spec'])['tls']).length ? '80, 443' : '80') },
    ageCol,
  ],
  StatefulSet: [
    name,
    { name: 'Ready', type: 'string', description: 'Ready replicas.', priority: 0, cell: (o) => `${num(obj(o['status'])['readyReplicas'])}/${num(obj(o['spec'])['replicas'])}` },
    ageCol,
  ],
  PodDisruptionBudget: [
    name,
    { name: 'Min Available', type: 'string', description: 'Minimum available pods.', priority: 0, cell: (o) => String(obj(o['spec'])['minAvailable'] ?? 'N/A') },
    { name: 'Max Unavailable', type: 'string', description: 'Maximum unavailable pods.', priority: 0, cell: (o) => String(obj(o['spec'])['maxUnavailable'] ?? 'N/A') },
    { name: 'Allowed Disruptions', type: 'integer', description: 'Disruptions allowed now.', priority: 0, cell: (o) => num(obj(o['status'])['disruptionsAllowed']) },
    ageCol,
  ],
  HorizontalPodAutoscaler: [
    name,
    { name: 'Reference', type: 'string', description: 'Scale target.', priority: 0, cell: (o) => `${String(obj(obj(o['spec'])['scaleTargetRef'])['kind'])}/${String(obj(obj(o['spec'])['scaleTargetRef'])['name'])}` },
    { name: 'Targets', type: 'string', description: 'Current and target metric values.', priority: 0, cell: hpaTargets },
    { name: 'MinPods', type: 'string', description: 'Minimum replicas.', priority: 0, cell: (o) => String(obj(o['spec'])['minReplicas'] ?? 1) },
    { name: 'MaxPods', type: 'string', description: 'Maximum replicas.', priority: 0, cell: (o) => String(obj(o['spec'])['maxReplicas'] ?? '') },
    { name: 'Replicas', type: 'string', description: 'Current replicas.', priority: 0, cell: (o) => String(num(obj(o['status'])['currentReplicas'])) },
    ageCol,
  ],
};

function hpaTargets(o: KObject): string {
  const current = arr(obj(o['status'])['currentMetrics']).map(obj);
  const parts = arr(obj(o['spec'])['metrics']).map((m) => {
    const res = obj(obj(m)['resource']);
    const target = obj(res['target']);
    const cur = current.find((c) => obj(c['resource'])['name'] === res['name']);
    const curUtil = obj(obj(cur?.['resource'])['current'])['averageUtilization'];
    const want = target['averageUtilization'] !== undefined ? `${String(target['averageUtilization'])}%` : String(target['averageValue'] ?? target['value'] ?? '');
    return `${String(res['name'] ?? 'metric')}: ${curUtil !== undefined ? `${String(curUtil)}%` : '<unknown>'}/${want}`;
  });
  return parts.join(', ') || '<none>';
}

function jobStatus(o: KObject): string {
  const conds = arr(obj(o['status'])['conditions']).map(obj);
  if (conds.some((c) => c['type'] === 'Complete' && c['status'] === 'True')) return 'Complete';
  if (conds.some((c) => c['type'] === 'Failed' && c['status'] === 'True')) return 'Failed';
  return 'Running';
}

/** A meta.k8s.io/v1 Table, as kube-apiserver returns for `Accept: application/json;as=Table`. */
export function toTable(kind: string, items: readonly KObject[], meta: { resourceVersion?: string; continue?: string }, includeObject: 'None' | 'Metadata' | 'Object' = 'Metadata'): KObject {
  const cols = COLUMNS[kind] ?? [name, ageCol];
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: meta as KObject['metadata'],
    columnDefinitions: cols.map((c) => ({ name: c.name, type: c.type, format: c.format ?? '', description: c.description, priority: c.priority })),
    rows: items.map((o) => {
      const row: Record<string, unknown> = { cells: cols.map((c) => c.cell(o)) };
      if (includeObject === 'Object') row['object'] = o;
      else if (includeObject === 'Metadata') row['object'] = { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata };
      return row;
    }),
  };
}
