/**
 * Pod Security Standards, ported from k8s.io/pod-security-admission (policy/check_*.go) at the
 * newest policy version ("latest"). Check ids, reasons and details are byte-for-byte the strings
 * kube-apiserver prints, because users paste them into searches and CI logs compare them.
 *
 * Ordering follows upstream registry.go: baseline check ids sorted, then restricted check ids sorted
 * (Go byte order); at "restricted", baseline checks named in a restricted check's OverrideCheckIDs are
 * dropped. Within a check, container lists follow visitContainers order (init, regular, ephemeral)
 * and value sets are sorted like Go's sets.List().
 */
import { at, list, rec, str, type Rec } from '../kube/json.ts';
import type { PodSecurityLevel, PodSecurityViolation } from './types.ts';

export type { PodSecurityLevel, PodSecurityViolation } from './types.ts';

// --- input shapes -------------------------------------------------------------------------------
// Deliberately loose: callers pass objects parsed from arbitrary YAML, and every field is re-checked
// at runtime, so a wrong type never throws, it just reads as "unset".

export interface SecurityContextLike {
  readonly allowPrivilegeEscalation?: boolean | null;
  readonly privileged?: boolean | null;
  readonly runAsNonRoot?: boolean | null;
  readonly runAsUser?: number | null;
  readonly procMount?: string | null;
  readonly capabilities?: { readonly add?: readonly string[] | null; readonly drop?: readonly string[] | null } | null;
  readonly seccompProfile?: { readonly type?: string | null; readonly localhostProfile?: string | null } | null;
  readonly appArmorProfile?: { readonly type?: string | null; readonly localhostProfile?: string | null } | null;
  readonly seLinuxOptions?: { readonly type?: string | null; readonly user?: string | null; readonly role?: string | null; readonly level?: string | null } | null;
  readonly windowsOptions?: { readonly hostProcess?: boolean | null } | null;
  readonly readOnlyRootFilesystem?: boolean | null;
}

export interface PodSecurityContextLike extends SecurityContextLike {
  readonly sysctls?: readonly { readonly name?: string; readonly value?: string }[] | null;
}

export interface ContainerLike {
  readonly name?: string;
  readonly image?: string;
  readonly securityContext?: SecurityContextLike | null;
  readonly ports?: readonly { readonly hostPort?: number | null; readonly containerPort?: number; readonly name?: string }[] | null;
  readonly livenessProbe?: object | null;
  readonly readinessProbe?: object | null;
  readonly startupProbe?: object | null;
  readonly lifecycle?: object | null;
}

export interface PodSpecLike {
  readonly containers?: readonly ContainerLike[] | null;
  readonly initContainers?: readonly ContainerLike[] | null;
  readonly ephemeralContainers?: readonly ContainerLike[] | null;
  readonly securityContext?: PodSecurityContextLike | null;
  readonly hostNetwork?: boolean | null;
  readonly hostPID?: boolean | null;
  readonly hostIPC?: boolean | null;
  readonly hostUsers?: boolean | null;
  readonly os?: { readonly name?: string } | null;
  readonly volumes?: readonly ({ readonly name?: string } & object)[] | null;
}

export interface PodMetadataLike {
  readonly annotations?: Readonly<Record<string, string>> | null;
}

export interface PodLike {
  readonly metadata?: PodMetadataLike | null;
  readonly spec: PodSpecLike;
}

/** What a violation points at, so callers (lint) can show a field path. */
export type PodSecurityTarget =
  | { readonly kind: 'pod' }
  | { readonly kind: 'container'; readonly list: ContainerList; readonly index: number; readonly name: string }
  | { readonly kind: 'volume'; readonly index: number; readonly name: string }
  | { readonly kind: 'annotation'; readonly key: string };

export type ContainerList = 'initContainers' | 'containers' | 'ephemeralContainers';

export interface DetailedPodSecurityViolation extends PodSecurityViolation {
  readonly targets: readonly PodSecurityTarget[];
}

// --- containers -------------------------------------------------------------------------------

interface VisitedContainer {
  readonly name: string;
  readonly sc: Rec | undefined;
  readonly raw: Rec;
  readonly target: PodSecurityTarget & { kind: 'container' };
}

/** Upstream visitContainers order: init containers, containers, ephemeral containers. */
function containersOf(spec: Rec): VisitedContainer[] {
  const out: VisitedContainer[] = [];
  for (const l of ['initContainers', 'containers', 'ephemeralContainers'] as const) {
    list(spec[l]).forEach((c, index) => {
      const raw = rec(c) ?? {};
      const name = str(raw['name']) ?? '';
      out.push({ name, sc: rec(raw['securityContext']), raw, target: { kind: 'container', list: l, index, name } });
    });
  }
  return out;
}

// --- upstream helpers (helpers.go) ----------------------------------------------------------------

/** Go's %q for the ASCII-printable strings Kubernetes names and values are in practice. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

function joinQuote(items: readonly string[]): string {
  return items.length === 0 ? '' : `"${items.join('", "')}"`;
}

function pluralize(singular: string, plural: string, count: number): string {
  return count === 1 ? singular : plural;
}

/** sets.NewString(...).List(): unique, sorted by Go string (byte) order. */
function sortedSet(values: Iterable<string>): string[] {
  return [...new Set(values)].sort(byteOrder);
}

function byteOrder(a: string, b: string): number {
  const ba = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  return Buffer.compare(ba, bb);
}

/** KEP-127: from policy v1.35, pods in a user namespace get some checks relaxed. */
function inUserNamespace(spec: Rec): boolean {
  return spec['hostUsers'] === false;
}

/** From policy v1.25, Windows pods are exempt from Linux-only restricted checks. */
function isWindows(spec: Rec): boolean {
  return at(spec, 'os', 'name') === 'windows';
}

function containerNames(cs: readonly VisitedContainer[]): string {
  return `${pluralize('container', 'containers', cs.length)} ${joinQuote(cs.map((c) => c.name))}`;
}

// --- checks -------------------------------------------------------------------------------------

interface CheckResult {
  readonly reason: string;
  readonly detail: string;
  readonly targets: readonly PodSecurityTarget[];
}

type CheckFn = (meta: Rec, spec: Rec) => CheckResult | undefined;

interface Check {
  readonly id: string;
  readonly level: 'baseline' | 'restricted';
  /** Baseline check ids this restricted check replaces when the level is restricted. */
  readonly overrides?: readonly string[];
  readonly fn: CheckFn;
}

const POD: PodSecurityTarget = { kind: 'pod' };

const appArmorProfile: CheckFn = (meta, spec) => {
  const allowedType = (t: string): boolean => t === 'RuntimeDefault' || t === 'Localhost';
  const allowedAnnotation = (v: string): boolean => v === '' || v === 'runtime/default' || v.startsWith('localhost/');
  const badSetters: string[] = [];
  const badValues: string[] = [];
  const targets: PodSecurityTarget[] = [];
  const podProfile = rec(at(spec, 'securityContext', 'appArmorProfile'));
  if (podProfile) {
    const t = str(podProfile['type']) ?? '';
    if (!allowedType(t)) {
      badSetters.push('pod');
      badValues.push(t);
      targets.push(POD);
    }
  }
  const bad = containersOf(spec).filter((c) => {
    const p = rec(c.sc?.['appArmorProfile']);
    if (!p) return false;
    const t = str(p['type']) ?? '';
    if (allowedType(t)) return false;
    badValues.push(t);
    return true;
  });
  if (bad.length > 0) {
    badSetters.push(containerNames(bad));
    targets.push(...bad.map((c) => c.target));
  }
  const annotations: string[] = [];
  for (const [k, v] of Object.entries(rec(meta['annotations']) ?? {})) {
    const value = str(v) ?? '';
    if (k.startsWith('container.apparmor.security.beta.kubernetes.io/') && !allowedAnnotation(value)) {
      annotations.push(`${k}=${goQuote(value)}`);
      targets.push({ kind: 'annotation', key: k });
    }
  }
  annotations.sort(byteOrder);
  const values = [...sortedSet(badValues), ...annotations];
  if (annotations.length > 0) badSetters.push(pluralize('annotation', 'annotations', annotations.length));
  if (badSetters.length === 0) return undefined;
  return {
    reason: pluralize('forbidden AppArmor profile', 'forbidden AppArmor profiles', values.length),
    detail: `${badSetters.join(' and ')} must not set AppArmor profile type to ${joinQuote(values)}`,
    targets,
  };
};

const BASELINE_CAPABILITIES = new Set([
  'AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD',
  'NET_BIND_SERVICE', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT',
]);

const capabilitiesBaseline: CheckFn = (_meta, spec) => {
  const nonDefault: string[] = [];
  const bad = containersOf(spec).filter((c) => {
    const caps = rec(c.sc?.['capabilities']);
    if (!caps) return false;
    let valid = true;
    for (const cap of list(caps['add'])) {
      const name = String(cap);
      if (!BASELINE_CAPABILITIES.has(name)) {
        valid = false;
        nonDefault.push(name);
      }
    }
    return !valid;
  });
  if (bad.length === 0) return undefined;
  return {
    reason: 'non-default capabilities',
    detail: `${containerNames(bad)} must not include ${joinQuote(sortedSet(nonDefault))} in securityContext.capabilities.add`,
    targets: bad.map((c) => c.target),
  };
};

const hostNamespaces: CheckFn = (_meta, spec) => {
  const found: string[] = [];
  if (spec['hostNetwork'] === true) found.push('hostNetwork=true');
  if (spec['hostPID'] === true) found.push('hostPID=true');
  if (spec['hostIPC'] === true) found.push('hostIPC=true');
  if (found.length === 0) return undefined;
  return { reason: 'host namespaces', detail: found.join(', '), targets: [POD] };
};

const hostPathVolumes: CheckFn = (_meta, spec) => {
  const targets: PodSecurityTarget[] = [];
  list(spec['volumes']).forEach((v, index) => {
    const vol = rec(v);
    if (vol && vol['hostPath'] !== undefined && vol['hostPath'] !== null) targets.push({ kind: 'volume', index, name: str(vol['name']) ?? '' });
  });
  if (targets.length === 0) return undefined;
  const names = targets.map((t) => (t.kind === 'volume' ? t.name : ''));
  return { reason: 'hostPath volumes', detail: `${pluralize('volume', 'volumes', names.length)} ${joinQuote(names)}`, targets };
};

const hostPorts: CheckFn = (_meta, spec) => {
  const ports: string[] = [];
  const bad = containersOf(spec).filter((c) => {
    let valid = true;
    for (const p of list(c.raw['ports'])) {
      const hp = rec(p)?.['hostPort'];
      if (typeof hp === 'number' && hp !== 0) {
        valid = false;
        ports.push(String(hp));
      }
    }
    return !valid;
  });
  if (bad.length === 0) return undefined;
  const unique = sortedSet(ports);
  return {
    reason: 'hostPort',
    detail: `${containerNames(bad)} ${pluralize('uses', 'use', bad.length)} ${pluralize('hostPort', 'hostPorts', unique.length)} ${unique.join(', ')}`,
    targets: bad.map((c) => c.target),
  };
};

const hostProbesAndHostLifecycle: CheckFn = (_meta, spec) => {
  const badNames = new Set<string>();
  const hosts: string[] = [];
  const targets: PodSecurityTarget[] = [];
  for (const c of containersOf(spec)) {
    const handlers = [
      c.raw['livenessProbe'], c.raw['readinessProbe'], c.raw['startupProbe'],
      at(c.raw, 'lifecycle', 'postStart'), at(c.raw, 'lifecycle', 'preStop'),
    ];
    let bad = false;
    for (const h of handlers) {
      for (const kind of ['httpGet', 'tcpSocket']) {
        const host = str(at(h, kind, 'host'));
        if (host) {
          bad = true;
          hosts.push(host);
        }
      }
    }
    if (bad) {
      badNames.add(c.name);
      targets.push(c.target);
    }
  }
  if (badNames.size === 0) return undefined;
  const names = sortedSet(badNames);
  const unique = sortedSet(hosts);
  return {
    reason: 'probe or lifecycle host',
    detail: `${pluralize('container', 'containers', names.length)} ${joinQuote(names)} ${pluralize('uses', 'use', names.length)} ${pluralize('probe or lifecycle host', 'probe or lifecycle hosts', unique.length)} ${joinQuote(unique)}`,
    targets,
  };
};

const privileged: CheckFn = (_meta, spec) => {
  const bad = containersOf(spec).filter((c) => c.sc?.['privileged'] === true);
  if (bad.length === 0) return undefined;
  return { reason: 'privileged', detail: `${containerNames(bad)} must not set securityContext.privileged=true`, targets: bad.map((c) => c.target) };
};

/** procMount_1_35_restricted upstream: only "Default" (or unset) is allowed. */
const procMountStrict: CheckFn = (_meta, spec) => {
  const types: string[] = [];
  const bad = containersOf(spec).filter((c) => {
    const pm = c.sc?.['procMount'];
    if (pm === undefined || pm === null) return false;
    if (pm === 'Default') return false;
    types.push(String(pm));
    return true;
  });
  if (bad.length === 0) return undefined;
  return {
    reason: 'procMount',
    detail: `${containerNames(bad)} must not set securityContext.procMount to ${joinQuote(sortedSet(types))}`,
    targets: bad.map((c) => c.target),
  };
};

const procMountBaseline: CheckFn = (meta, spec) => (inUserNamespace(spec) ? undefined : procMountStrict(meta, spec));

const SELINUX_TYPES = new Set(['', 'container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t']);

const seLinuxOptions: CheckFn = (_meta, spec) => {
  const badTypes: string[] = [];
  let setUser = false;
  let setRole = false;
  const valid = (opts: Rec): boolean => {
    let ok = true;
    const t = str(opts['type']) ?? '';
    if (!SELINUX_TYPES.has(t)) {
      ok = false;
      badTypes.push(t);
    }
    if ((str(opts['user']) ?? '').length > 0) {
      ok = false;
      setUser = true;
    }
    if ((str(opts['role']) ?? '').length > 0) {
      ok = false;
      setRole = true;
    }
    return ok;
  };
  const badSetters: string[] = [];
  const targets: PodSecurityTarget[] = [];
  const podOpts = rec(at(spec, 'securityContext', 'seLinuxOptions'));
  if (podOpts && !valid(podOpts)) {
    badSetters.push('pod');
    targets.push(POD);
  }
  const bad = containersOf(spec).filter((c) => {
    const o = rec(c.sc?.['seLinuxOptions']);
    return o !== undefined && !valid(o);
  });
  if (bad.length > 0) {
    badSetters.push(containerNames(bad));
    targets.push(...bad.map((c) => c.target));
  }
  if (badSetters.length === 0) return undefined;
  const data: string[] = [];
  const types = sortedSet(badTypes);
  if (types.length > 0) data.push(`${pluralize('type', 'types', types.length)} ${joinQuote(types)}`);
  if (setUser) data.push('user may not be set');
  if (setRole) data.push('role may not be set');
  return { reason: 'seLinuxOptions', detail: `${badSetters.join(' and ')} set forbidden securityContext.seLinuxOptions: ${data.join('; ')}`, targets };
};

const validSeccomp = (t: string): boolean => t === 'Localhost' || t === 'RuntimeDefault';

/** Shared by the baseline and restricted seccomp checks; restricted also requires the field. */
function seccomp(spec: Rec, required: boolean): CheckResult | undefined {
  const badSetters: string[] = [];
  const badValues: string[] = [];
  const targets: PodSecurityTarget[] = [];
  let podSet = false;
  const podProfile = rec(at(spec, 'securityContext', 'seccompProfile'));
  if (podProfile) {
    const t = str(podProfile['type']) ?? '';
    if (!validSeccomp(t)) {
      badSetters.push('pod');
      badValues.push(t);
      targets.push(POD);
    } else {
      podSet = true;
    }
  }
  const explicit: VisitedContainer[] = [];
  const implicit: VisitedContainer[] = [];
  for (const c of containersOf(spec)) {
    const p = rec(c.sc?.['seccompProfile']);
    if (p) {
      const t = str(p['type']) ?? '';
      if (!validSeccomp(t)) {
        explicit.push(c);
        badValues.push(t);
      }
    } else if (!podSet) {
      implicit.push(c);
    }
  }
  if (explicit.length > 0) {
    badSetters.push(containerNames(explicit));
    targets.push(...explicit.map((c) => c.target));
  }
  if (badSetters.length > 0) {
    return {
      reason: 'seccompProfile',
      detail: `${badSetters.join(' and ')} must not set securityContext.seccompProfile.type to ${joinQuote(sortedSet(badValues))}`,
      targets,
    };
  }
  if (required && implicit.length > 0) {
    return {
      reason: 'seccompProfile',
      detail: `pod or ${containerNames(implicit)} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"`,
      targets: implicit.map((c) => c.target),
    };
  }
  return undefined;
}

// Safe sysctls through policy v1.37 (upstream sysctlsAllowedV1Dot37).
const SAFE_SYSCTLS = new Set([
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
  'net.ipv4.tcp_rmem',
  'net.ipv4.tcp_wmem',
  'net.ipv4.tcp_slow_start_after_idle',
  'net.ipv4.tcp_notsent_lowat',
]);

const sysctls: CheckFn = (_meta, spec) => {
  const forbidden = list(at(spec, 'securityContext', 'sysctls'))
    .map((s) => str(rec(s)?.['name']) ?? '')
    .filter((n) => !SAFE_SYSCTLS.has(n));
  if (forbidden.length === 0) return undefined;
  return { reason: 'forbidden sysctls', detail: forbidden.join(', '), targets: [POD] };
};

const windowsHostProcess: CheckFn = (_meta, spec) => {
  const bad = containersOf(spec).filter((c) => at(c.sc, 'windowsOptions', 'hostProcess') === true);
  const setters: string[] = [];
  const targets: PodSecurityTarget[] = [];
  if (at(spec, 'securityContext', 'windowsOptions', 'hostProcess') === true) {
    setters.push('pod');
    targets.push(POD);
  }
  if (bad.length > 0) {
    setters.push(containerNames(bad));
    targets.push(...bad.map((c) => c.target));
  }
  if (setters.length === 0) return undefined;
  return { reason: 'hostProcess', detail: `${setters.join(' and ')} must not set securityContext.windowsOptions.hostProcess=true`, targets };
};

const allowPrivilegeEscalation: CheckFn = (_meta, spec) => {
  if (isWindows(spec)) return undefined;
  const bad = containersOf(spec).filter((c) => c.sc?.['allowPrivilegeEscalation'] !== false);
  if (bad.length === 0) return undefined;
  return {
    reason: 'allowPrivilegeEscalation != false',
    detail: `${containerNames(bad)} must set securityContext.allowPrivilegeEscalation=false`,
    targets: bad.map((c) => c.target),
  };
};

const capabilitiesRestricted: CheckFn = (_meta, spec) => {
  if (isWindows(spec)) return undefined;
  const missingDropAll: VisitedContainer[] = [];
  const addingForbidden: VisitedContainer[] = [];
  const forbiddenCaps: string[] = [];
  for (const c of containersOf(spec)) {
    const caps = rec(c.sc?.['capabilities']);
    if (!caps) {
      missingDropAll.push(c);
      continue;
    }
    if (!list(caps['drop']).some((d) => d === 'ALL')) missingDropAll.push(c);
    let forbidden = false;
    for (const a of list(caps['add'])) {
      if (a !== 'NET_BIND_SERVICE') {
        forbidden = true;
        forbiddenCaps.push(String(a));
      }
    }
    if (forbidden) addingForbidden.push(c);
  }
  const details: string[] = [];
  if (missingDropAll.length > 0) details.push(`${containerNames(missingDropAll)} must set securityContext.capabilities.drop=["ALL"]`);
  if (addingForbidden.length > 0) {
    details.push(`${containerNames(addingForbidden)} must not include ${joinQuote(sortedSet(forbiddenCaps))} in securityContext.capabilities.add`);
  }
  if (details.length === 0) return undefined;
  const targets = [...missingDropAll, ...addingForbidden.filter((c) => !missingDropAll.includes(c))].map((c) => c.target);
  return { reason: 'unrestricted capabilities', detail: details.join('; '), targets };
};

const ALLOWED_RESTRICTED_VOLUMES = ['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'image', 'persistentVolumeClaim', 'projected', 'secret'];
// Upstream's switch order decides which type a volume reports when it (invalidly) sets several.
const RESTRICTED_VOLUME_TYPES = [
  'hostPath', 'gcePersistentDisk', 'awsElasticBlockStore', 'gitRepo', 'nfs', 'iscsi', 'glusterfs', 'rbd',
  'flexVolume', 'cinder', 'cephfs', 'flocker', 'fc', 'azureFile', 'vsphereVolume', 'quobyte', 'azureDisk',
  'photonPersistentDisk', 'portworxVolume', 'scaleIO', 'storageos',
];

const present = (v: Rec, k: string): boolean => v[k] !== undefined && v[k] !== null;

const restrictedVolumes: CheckFn = (_meta, spec) => {
  const names: string[] = [];
  const types: string[] = [];
  const targets: PodSecurityTarget[] = [];
  list(spec['volumes']).forEach((v, index) => {
    const vol = rec(v) ?? {};
    if (ALLOWED_RESTRICTED_VOLUMES.some((k) => present(vol, k))) return;
    const type = RESTRICTED_VOLUME_TYPES.find((k) => present(vol, k));
    const sourceKeys = Object.keys(vol).filter((k) => k !== 'name');
    // The API server defaults a volume without any source to emptyDir before admission sees it.
    if (type === undefined && sourceKeys.length === 0) return;
    const name = str(vol['name']) ?? '';
    names.push(name);
    types.push(type ?? 'unknown');
    targets.push({ kind: 'volume', index, name });
  });
  if (names.length === 0) return undefined;
  const uniqueTypes = sortedSet(types);
  return {
    reason: 'restricted volume types',
    detail: `${pluralize('volume', 'volumes', names.length)} ${joinQuote(names)} ${pluralize('uses', 'use', names.length)} ${pluralize('restricted volume type', 'restricted volume types', uniqueTypes.length)} ${joinQuote(uniqueTypes)}`,
    targets,
  };
};

const runAsNonRoot: CheckFn = (_meta, spec) => {
  if (inUserNamespace(spec)) return undefined;
  const badSetters: string[] = [];
  const targets: PodSecurityTarget[] = [];
  let podRunAsNonRoot = false;
  const podValue = at(spec, 'securityContext', 'runAsNonRoot');
  if (typeof podValue === 'boolean') {
    if (!podValue) {
      badSetters.push('pod');
      targets.push(POD);
    } else {
      podRunAsNonRoot = true;
    }
  }
  const explicit: VisitedContainer[] = [];
  const implicit: VisitedContainer[] = [];
  for (const c of containersOf(spec)) {
    const v = c.sc?.['runAsNonRoot'];
    if (typeof v === 'boolean') {
      if (!v) explicit.push(c);
    } else if (!podRunAsNonRoot) {
      implicit.push(c);
    }
  }
  if (explicit.length > 0) {
    badSetters.push(containerNames(explicit));
    targets.push(...explicit.map((c) => c.target));
  }
  if (badSetters.length > 0) {
    return { reason: 'runAsNonRoot != true', detail: `${badSetters.join(' and ')} must not set securityContext.runAsNonRoot=false`, targets };
  }
  if (implicit.length > 0) {
    return {
      reason: 'runAsNonRoot != true',
      detail: `pod or ${containerNames(implicit)} must set securityContext.runAsNonRoot=true`,
      targets: implicit.map((c) => c.target),
    };
  }
  return undefined;
};

const runAsUser: CheckFn = (_meta, spec) => {
  if (inUserNamespace(spec)) return undefined;
  const badSetters: string[] = [];
  const targets: PodSecurityTarget[] = [];
  if (at(spec, 'securityContext', 'runAsUser') === 0) {
    badSetters.push('pod');
    targets.push(POD);
  }
  const bad = containersOf(spec).filter((c) => c.sc?.['runAsUser'] === 0);
  if (bad.length > 0) {
    badSetters.push(containerNames(bad));
    targets.push(...bad.map((c) => c.target));
  }
  if (badSetters.length === 0) return undefined;
  return { reason: 'runAsUser=0', detail: `${badSetters.join(' and ')} must not set runAsUser=0`, targets };
};

const CHECKS: readonly Check[] = [
  { id: 'appArmorProfile', level: 'baseline', fn: appArmorProfile },
  { id: 'capabilities_baseline', level: 'baseline', fn: capabilitiesBaseline },
  { id: 'hostNamespaces', level: 'baseline', fn: hostNamespaces },
  { id: 'hostPathVolumes', level: 'baseline', fn: hostPathVolumes },
  { id: 'hostPorts', level: 'baseline', fn: hostPorts },
  { id: 'hostProbesAndHostLifecycle', level: 'baseline', fn: hostProbesAndHostLifecycle },
  { id: 'privileged', level: 'baseline', fn: privileged },
  { id: 'procMount', level: 'baseline', fn: procMountBaseline },
  { id: 'seLinuxOptions', level: 'baseline', fn: seLinuxOptions },
  { id: 'seccompProfile_baseline', level: 'baseline', fn: (_m, s) => seccomp(s, false) },
  { id: 'sysctls', level: 'baseline', fn: sysctls },
  { id: 'windowsHostProcess', level: 'baseline', fn: windowsHostProcess },
  { id: 'allowPrivilegeEscalation', level: 'restricted', fn: allowPrivilegeEscalation },
  { id: 'capabilities_restricted', level: 'restricted', overrides: ['capabilities_baseline'], fn: capabilitiesRestricted },
  { id: 'procMount_restricted', level: 'restricted', overrides: ['procMount'], fn: procMountStrict },
  { id: 'restrictedVolumes', level: 'restricted', overrides: ['hostPathVolumes'], fn: restrictedVolumes },
  { id: 'runAsNonRoot', level: 'restricted', fn: runAsNonRoot },
  { id: 'runAsUser', level: 'restricted', fn: runAsUser },
  { id: 'seccompProfile_restricted', level: 'restricted', overrides: ['seccompProfile_baseline'], fn: (_m, s) => (isWindows(s) ? undefined : seccomp(s, true)) },
];

/** Check ids in evaluation order for each level, computed once the way upstream's registry does. */
function checksFor(level: 'baseline' | 'restricted'): readonly Check[] {
  const byId = (a: Check, b: Check): number => byteOrder(a.id, b.id);
  const baseline = CHECKS.filter((c) => c.level === 'baseline').sort(byId);
  if (level === 'baseline') return baseline;
  const restricted = CHECKS.filter((c) => c.level === 'restricted').sort(byId);
  const overridden = new Set(restricted.flatMap((c) => c.overrides ?? []));
  return [...baseline.filter((c) => !overridden.has(c.id)), ...restricted];
}

const ORDERED = { baseline: checksFor('baseline'), restricted: checksFor('restricted') } as const;

/** Every check id at a level, in message order. */
export function podSecurityCheckIds(level: PodSecurityLevel): readonly string[] {
  return level === 'privileged' ? [] : ORDERED[level].map((c) => c.id);
}

/** Like evaluatePodSecurity, plus what each violation points at. */
export function evaluatePodSecurityDetailed(level: PodSecurityLevel, pod: PodLike): DetailedPodSecurityViolation[] {
  if (level === 'privileged') return [];
  const meta = rec(pod.metadata) ?? {};
  const spec = rec(pod.spec) ?? {};
  const out: DetailedPodSecurityViolation[] = [];
  for (const check of ORDERED[level]) {
    const r = check.fn(meta, spec);
    if (r) out.push({ check: check.id, level: check.level, reason: r.reason, detail: r.detail, targets: r.targets });
  }
  return out;
}

/** Evaluates a pod (or pod template) against a Pod Security Standards level at policy "latest". */
export function evaluatePodSecurity(level: PodSecurityLevel, pod: PodLike): PodSecurityViolation[] {
  return evaluatePodSecurityDetailed(level, pod).map(({ check, level: l, reason, detail }) => ({ check, level: l, reason, detail }));
}

// --- messages -----------------------------------------------------------------------------------

/** Upstream AggregateCheckResult.ForbiddenDetail(): `reason (detail), reason, ...`. */
export function formatPodSecurityViolations(violations: readonly PodSecurityViolation[]): string {
  return violations.map((v) => (v.detail === '' ? v.reason : `${v.reason} (${v.detail})`)).join(', ');
}

export interface PodSecurityMessageOptions {
  readonly level: PodSecurityLevel;
  /** Policy version as written in the namespace label, e.g. "latest" or "v1.33". */
  readonly version?: string;
  readonly violations: readonly PodSecurityViolation[];
}

export interface PodSecurityForbiddenOptions extends PodSecurityMessageOptions {
  /** Plural resource, e.g. "pods". */
  readonly resource?: string;
  readonly name: string;
}

/**
 * kube-apiserver's rejection message for a pod, as built by apierrors.NewForbidden, e.g.
 * `pods "nginx" is forbidden: violates PodSecurity "restricted:latest": ...`.
 */
export function formatPodSecurityForbidden(opts: PodSecurityForbiddenOptions): string {
  const resource = opts.resource ?? 'pods';
  const reason = `violates PodSecurity ${goQuote(`${opts.level}:${opts.version ?? 'latest'}`)}: ${formatPodSecurityViolations(opts.violations)}`;
  return opts.name === '' ? `${resource} is forbidden: ${reason}` : `${resource} ${goQuote(opts.name)} is forbidden: ${reason}`;
}

/** The warning kube-apiserver returns for workload objects whose pod template would be rejected. */
export function formatPodSecurityWarning(opts: PodSecurityMessageOptions): string {
  return `would violate PodSecurity ${goQuote(`${opts.level}:${opts.version ?? 'latest'}`)}: ${formatPodSecurityViolations(opts.violations)}`;
}

// --- pod templates of workload kinds ------------------------------------------------------------

export interface PodTemplateRef {
  readonly metadata: PodMetadataLike & { readonly labels?: Readonly<Record<string, string>> | null };
  readonly spec: PodSpecLike;
  /** Dotted field path of the pod spec inside the object, e.g. "spec.template.spec". */
  readonly specPath: string;
  /** Dotted field path of the pod (template) metadata, e.g. "spec.template.metadata". */
  readonly metadataPath: string;
}

/** Where each kind keeps its pod template (the kinds upstream's PodSpecExtractor knows). */
const TEMPLATE_PATHS: Readonly<Record<string, readonly string[]>> = {
  Pod: [],
  PodTemplate: ['template'],
  ReplicationController: ['spec', 'template'],
  ReplicaSet: ['spec', 'template'],
  Deployment: ['spec', 'template'],
  StatefulSet: ['spec', 'template'],
  DaemonSet: ['spec', 'template'],
  Job: ['spec', 'template'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template'],
};

export function hasPodTemplate(kind: string): boolean {
  return kind in TEMPLATE_PATHS;
}

/** The pod template of a Pod or workload object, or undefined for other kinds / missing templates. */
export function podTemplateOf(obj: unknown): PodTemplateRef | undefined {
  const kind = str(at(obj, 'kind'));
  if (kind === undefined || !hasPodTemplate(kind)) return undefined;
  const path = TEMPLATE_PATHS[kind] ?? [];
  const template = path.length === 0 ? obj : at(obj, ...path);
  const spec = rec(at(template, 'spec'));
  if (!spec) return undefined;
  const prefix = path.length === 0 ? '' : `${path.join('.')}.`;
  return {
    metadata: (rec(at(template, 'metadata')) ?? {}) as PodTemplateRef['metadata'],
    spec: spec as PodSpecLike,
    specPath: `${prefix}spec`,
    metadataPath: `${prefix}metadata`,
  };
}

/**
 * Applies the API server defaulting that changes what Pod Security sees for a Pod: with hostNetwork,
 * ports without a hostPort get hostPort = containerPort (SetDefaults_PodSpec). Since Kubernetes 1.28
 * workload pod templates are no longer defaulted this way, so use this for Pods only.
 */
export function withPodDefaults<T extends PodLike>(pod: T): T {
  const spec = rec(pod.spec);
  if (!spec || spec['hostNetwork'] !== true) return pod;
  const fix = (cs: unknown): unknown =>
    Array.isArray(cs)
      ? cs.map((c: unknown) => {
          const r = rec(c);
          if (!r || !Array.isArray(r['ports'])) return c;
          const ports = (r['ports'] as unknown[]).map((p) => {
            const pr = rec(p);
            if (!pr || (typeof pr['hostPort'] === 'number' && pr['hostPort'] !== 0)) return p;
            return typeof pr['containerPort'] === 'number' ? { ...pr, hostPort: pr['containerPort'] } : p;
          });
          return { ...r, ports };
        })
      : cs;
  return { ...pod, spec: { ...spec, containers: fix(spec['containers']), initContainers: fix(spec['initContainers']) } };
}

/**
 * The message kube-apiserver would produce for this object at a level: the Forbidden error for a
 * Pod, the "would violate" warning for workloads; undefined when it passes or has no pod template.
 */
export function podSecurityMessageFor(obj: unknown, level: PodSecurityLevel, version = 'latest'): string | undefined {
  const tpl = podTemplateOf(obj);
  if (!tpl) return undefined;
  const isPod = at(obj, 'kind') === 'Pod';
  const violations = evaluatePodSecurity(level, isPod ? withPodDefaults(tpl) : tpl);
  if (violations.length === 0) return undefined;
  if (isPod) {
    return formatPodSecurityForbidden({ resource: 'pods', name: str(at(obj, 'metadata', 'name')) ?? '', level, version, violations });
  }
  return formatPodSecurityWarning({ level, version, violations });
}
