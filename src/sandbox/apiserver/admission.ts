import type { KObject } from '../types.ts';
import { defaultPodOnCreate } from './defaults.ts';
import { deepEqual, obj } from './json.ts';
import type { ObjectStore } from './objectStore.ts';
import { admitPodSecurity, namespacePodWarnings } from './podSecurityAdmission.ts';
import type { ResourceDef } from './resourceRegistry.ts';
import { forbidden, notFound } from './statusErrors.ts';

/** The stored objects the admission plugins look at; they never write. */
export type AdmissionObjects = Pick<ObjectStore, 'peek' | 'scan'>;

/**
 * kube-apiserver's admission plugins that the sandbox runs on every write: NamespaceLifecycle,
 * ServiceAccount, DefaultIngressClass, DefaultStorageClass and PodSecurity.
 */
export class Admission {
  constructor(private readonly objects: AdmissionObjects) {}

  /**
   * NamespaceLifecycle: nothing new is created in a namespace that is missing or being terminated.
   * Returns the namespace a namespaced object is written to (PodSecurity reads its labels).
   */
  namespaceLifecycle(d: ResourceDef, next: KObject, creating: boolean): KObject | undefined {
    const namespace = next.metadata.namespace ?? '';
    const namespaceObj = d.namespaced ? this.objects.peek('/namespaces', undefined, namespace) : undefined;
    if (creating && d.namespaced) {
      if (!namespaceObj) throw notFound({ group: '', resource: 'namespaces' }, namespace);
      if (namespaceObj.metadata.deletionTimestamp || obj(namespaceObj['status'])['phase'] === 'Terminating')
        throw forbidden(d, next.metadata.name ?? '', `unable to create new content in namespace ${namespace} because it is being terminated`);
    }
    return namespaceObj;
  }

  /** The mutating plugins, on creates: ServiceAccount (a pod's account must exist), DefaultIngressClass and DefaultStorageClass. */
  mutateOnCreate(d: ResourceDef, next: KObject): void {
    if (d.kind === 'Pod') {
      const saName = obj(next['spec'])['serviceAccountName'];
      const ns = next.metadata.namespace ?? '';
      const sa = typeof saName === 'string' ? saName : 'default';
      if (!this.objects.peek('/serviceaccounts', ns, sa))
        throw forbidden(d, next.metadata.name ?? '', `error looking up service account ${ns}/${sa}: serviceaccount "${sa}" not found`);
      defaultPodOnCreate(next, true);
    }
    if (d.kind === 'Ingress') this.defaultIngressClass(next);
    if (d.kind === 'PersistentVolumeClaim') {
      this.defaultStorageClass(next);
      // StorageObjectInUseProtection: the claim stays while a pod uses it (the PV controller lifts it).
      if (!(next.metadata.finalizers ?? []).includes('kubernetes.io/pvc-protection')) next.metadata.finalizers = [...(next.metadata.finalizers ?? []), 'kubernetes.io/pvc-protection'];
    }
  }

  /**
   * PodSecurity: like the real plugin, only creates and spec changes are evaluated, so status and
   * metadata writes (the kubelet's, for instance) pass even after the namespace's level was raised.
   * Returns the warnings to send; `enforce` on a Pod throws instead.
   */
  podSecurity(d: ResourceDef, old: KObject | undefined, next: KObject, namespaceObj: KObject | undefined): string[] {
    const warnings: string[] = [];
    if (d.namespaced && namespaceObj && (!old || !deepEqual(old['spec'], next['spec']))) warnings.push(...admitPodSecurity(next, namespaceObj.metadata.labels ?? {}));
    if (d.kind === 'Namespace' && old) warnings.push(...this.namespaceLevelWarnings(old, next));
    return warnings;
  }

  /** Raising a namespace's enforce level warns about the pods already running there, as kube-apiserver does. */
  private namespaceLevelWarnings(old: KObject, next: KObject): string[] {
    const key = 'pod-security.kubernetes.io/enforce';
    const level = next.metadata.labels?.[key];
    if (!level || (level === old.metadata.labels?.[key] && next.metadata.labels?.[`${key}-version`] === old.metadata.labels?.[`${key}-version`])) return [];
    const ns = next.metadata.name ?? '';
    const pods = [...this.objects.scan('/pods')].filter((p) => p.metadata.namespace === ns);
    return namespacePodWarnings(ns, level, next.metadata.labels?.[`${key}-version`] ?? 'latest', pods);
  }

  /** DefaultStorageClass: a claim without `storageClassName` gets the default class; `""` asks for none. */
  private defaultStorageClass(pvc: KObject): void {
    const spec = obj(pvc['spec']);
    if (spec['storageClassName'] !== undefined && spec['storageClassName'] !== null) return;
    if (pvc.metadata.annotations?.['volume.beta.kubernetes.io/storage-class'] !== undefined) return;
    for (const c of this.objects.scan('storage.k8s.io/storageclasses')) {
      if (c.metadata.annotations?.['storageclass.kubernetes.io/is-default-class'] === 'true') {
        spec['storageClassName'] = c.metadata.name;
        pvc['spec'] = spec;
        return;
      }
    }
  }

  /** DefaultIngressClass: an Ingress without a class gets the one marked as the default. */
  private defaultIngressClass(ing: KObject): void {
    const spec = obj(ing['spec']);
    if (spec['ingressClassName'] || ing.metadata.annotations?.['kubernetes.io/ingress.class']) return;
    for (const c of this.objects.scan('networking.k8s.io/ingressclasses')) {
      if (c.metadata.annotations?.['ingressclass.kubernetes.io/is-default-class'] === 'true') {
        spec['ingressClassName'] = c.metadata.name;
        ing['spec'] = spec;
        return;
      }
    }
  }
}
