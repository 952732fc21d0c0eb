import type { ResolvedApp } from '../appspec/resolvedApp.ts';
import { lintObjects, type HardeningScore } from '../lint/index.ts';
import { renderApp } from '../manifests/renderApp.ts';

/**
 * The lint hardening score of what berth renders for an App (docs/adr/0013-lint-score.md): the tool
 * that generates the manifests also judges them, on every deploy. Pure and cheap (render + lint of a
 * handful of objects).
 */
export function hardeningScoreOf(app: ResolvedApp): HardeningScore {
  return lintObjects(renderApp(app)).score;
}
