/**
 * The lint hardening score (0–100 per workload and overall; docs/lint-rules.md, "Score"), as the
 * deploy response (`score`) and `POST /v1/render?lint=true` (`lint.score`) carry it.
 */
import type { DeployResponse, HardeningScore } from '../../src/api/types.ts';

/** Bands as `berth lint` prints them: below 50 a workload has an error finding. */
const band = (n: number): string => (n >= 90 ? 'ok' : n >= 70 ? 'busy' : n >= 50 ? 'warn' : 'bad');

export function ScoreCard({ score, caption }: { score: HardeningScore; caption: string }) {
  return (
    <div class="score" data-testid="score">
      <p>
        <span class={`score-num badge ${band(score.overall)}`} aria-label={`Hardening score ${score.overall} of 100`}>{score.overall}</span> <strong>Hardening score</strong> <small class="muted">{caption}</small>
      </p>
      {score.workloads.length > 0 && (
        <ul class="score-list">
          {score.workloads.map((w) => (
            <li key={`${w.object.kind}/${w.object.namespace}/${w.object.name}`}>
              <span class={`badge ${band(w.score)}`}>{w.score}</span> {w.object.kind}/{w.object.name}{' '}
              <small class="muted">{w.findings.error} errors · {w.findings.warning} warnings · {w.findings.info} info</small>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/**
 * The answer of the deploy the form just sent, kept for the app page it navigates to (one page, no
 * storage: a reload forgets it, and the manifests tab recomputes the score anyway).
 */
let lastDeploy: DeployResponse | undefined;

export function rememberDeploy(r: DeployResponse): void {
  lastDeploy = r;
}

export function deployOf(ns: string, name: string): DeployResponse | undefined {
  return lastDeploy && lastDeploy.namespace === ns && lastDeploy.name === name ? lastDeploy : undefined;
}
