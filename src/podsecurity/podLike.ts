/**
 * The pod shapes Pod Security reads. Deliberately loose: callers pass objects parsed from arbitrary
 * YAML, and every field is re-checked at runtime, so a wrong type never throws, it just reads as "unset".
 */

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
