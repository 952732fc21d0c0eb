/**
 * The wire shapes of berth's HTTP API (v1). The server (src/api) produces them and the CLI
 * (src/cli/apiClient.ts) consumes them; both import these types so they cannot drift apart.
 * Errors are always `ApiErrorBody` with the HTTP status of the error code (src/errors.ts).
 */
import type { Problem, ErrorCode } from '../errors.ts';
import type { KubeObject } from '../manifests/kubeObject.ts';
import type { AppDiff, DriftNote, HardeningScore, ObjectChange } from '../deploy/types.ts';
import type { AppStatus, StatusEvent } from '../status/types.ts';
import type { Weakening } from '../appspec/weakenings.ts';
import type { LintReport } from '../lint/types.ts';
import type { ObjectRef, RevisionOutcome, RevisionAction } from '../store/types.ts';

/** The alert domain's shapes travel as they are (src/alerts/alertTypes.ts). */
export type { AlertHistoryEntry, AlertList, AlertStreamEvent, AlertSummary } from '../alerts/alertTypes.ts';

/** The deploy domain's shapes travel as they are (src/deploy/types.ts). */
export type { DriftedObject, DriftNote, HardeningScore, ObjectChange, WorkloadScore } from '../deploy/types.ts';

export interface ApiErrorBody {
  readonly error: {
    readonly code: ErrorCode;
    readonly status: number;
    readonly message: string;
    readonly hint: string;
    readonly problems: readonly Problem[];
    readonly requestId: string;
  };
}

/** PUT /v1/namespaces/{ns}/apps/{name} → 202 (or 200 with ?wait=true / ?dryRun=true). */
export interface DeployResponse {
  readonly namespace: string;
  readonly name: string;
  /** null for a dry run; for an unchanged App, the current revision. */
  readonly revision: number | null;
  readonly dryRun: boolean;
  /**
   * true when the App already runs this spec (same resolved spec as its newest revision, which
   * succeeded, and nothing in the cluster to create, update or prune): no revision was recorded.
   */
  readonly unchanged: boolean;
  readonly changes: readonly ObjectChange[];
  readonly warnings: readonly Problem[];
  /**
   * The lint hardening score (0–100, per workload and overall) of the objects rendered for this spec
   * (docs/lint-rules.md, "Score"). This server always sends it; optional so clients also read servers
   * that do not.
   */
  readonly score?: HardeningScore;
  /** Present with ?wait=true: the status that ended the wait. */
  readonly status?: AppStatus;
  /** Present with ?wait=true: how the rollout ended (a failed rollout still answers 200; read reason/message in `status`). */
  readonly outcome?: Extract<RevisionOutcome, 'succeeded' | 'failed' | 'superseded'>;
  /** Links the client follows. */
  readonly links: { readonly self: string; readonly status: string; readonly stream: string };
}

export interface AppSummary {
  readonly namespace: string;
  readonly name: string;
  readonly revision: number;
  readonly image: string;
  /** metadata.labels of the newest spec (what the dashboard filters on). */
  readonly labels?: Readonly<Record<string, string>>;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly updatedBy: string;
  /** Live rollout state; null when the status engine has not seen the app yet. */
  readonly status: AppStatus | null;
  /** The last drift reconciliation found and repaired (objects deleted or edited outside berth); null when none since the server started. */
  readonly drift?: DriftNote | null;
  /** Settings of the newest spec weaker than Pod Security restricted; empty when none. */
  readonly weakened?: readonly Weakening[];
}

/** GET /v1/apps, GET /v1/namespaces/{ns}/apps */
export interface AppList {
  readonly items: readonly AppSummary[];
}

/** GET /v1/namespaces/{ns}/apps/{name} */
export interface AppDetail extends AppSummary {
  /** The App document of the newest revision, as submitted. */
  readonly spec: unknown;
  readonly inventory: readonly ObjectRef[];
}

export interface RevisionSummary {
  readonly revision: number;
  readonly action: RevisionAction;
  readonly rollbackOf: number | null;
  readonly actor: string;
  readonly createdAt: string;
  readonly diffSummary: string;
  readonly outcome: RevisionOutcome;
  readonly reason: string | null;
  readonly message: string | null;
  readonly finishedAt: string | null;
  readonly spec: unknown;
}

/** GET .../apps/{name}/revisions (newest first) */
export interface RevisionList {
  readonly items: readonly RevisionSummary[];
}

/** POST .../apps/{name}/rollback body */
export interface RollbackRequest {
  readonly revision: number;
}

/** POST /v1/render → rendered objects; POST .../apps/{name}/diff → live vs rendered. */
export interface RenderResponse {
  readonly objects: readonly KubeObject[];
  readonly warnings: readonly Problem[];
  /** With ?lint=true: the findings of `berth lint` on the rendered objects. */
  readonly lint?: LintReport;
}
export type DiffResponse = AppDiff;

/** DELETE .../apps/{name} → 200 */
export interface DeleteResponse {
  readonly namespace: string;
  readonly name: string;
  readonly deleted: readonly ObjectRef[];
}

/** One line of GET .../apps/{name}/logs?format=ndjson */
export interface LogLineDto {
  readonly pod: string;
  readonly container: string;
  /** RFC 3339 when known. */
  readonly time: string | null;
  readonly line: string;
}

/** SSE `data:` payload of the status streams; the SSE `id:` is `event.id`, the SSE `event:` is `event.type`. */
export type StatusStreamEvent = StatusEvent;

/** POST /v1/live/{streamId}/subscriptions body (the dashboard's multiplexed stream, src/api/live). */
export type LiveSubscribeRequest =
  | { readonly id: string; readonly kind: 'status'; readonly namespace?: string; readonly name?: string }
  | { readonly id: string; readonly kind: 'logs'; readonly namespace: string; readonly name: string; readonly tail?: number };

/** 201 from POST /v1/live/{streamId}/subscriptions. */
export interface LiveSubscribeResponse {
  readonly sub: string;
}

/** SSE `data:` of GET /v1/live, by SSE event name. */
export interface LiveEvents {
  readonly hello: { readonly streamId: string };
  readonly status: { readonly sub: string; readonly event: StatusEvent };
  readonly deleted: { readonly sub: string; readonly event: StatusEvent };
  readonly logs: { readonly sub: string; readonly lines: readonly LogLineDto[] };
  readonly 'sub-end': { readonly sub: string; readonly error?: Pick<ApiErrorBody['error'], 'code' | 'status' | 'message' | 'hint'> };
}
/** GET .../apps/{name}/health and .../health/series (the probe domain's wire types). */
export type { AppHealth, HealthPoint, HealthSeries, HealthWindow, LastProbe, SeriesStep } from '../probe/healthTypes.ts';
