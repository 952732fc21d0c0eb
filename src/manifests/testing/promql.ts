/**
 * Test support: PromQL syntax checks with Prometheus' own Lezer grammar (the one its web UI uses),
 * so every generated expression is parsed in unit tests without starting promtool.
 */
import { parser } from '@prometheus-io/lezer-promql';

export interface PromqlSyntaxError {
  readonly from: number;
  readonly to: number;
  /** The expression around the error, for a readable assertion message. */
  readonly near: string;
}

/**
 * Syntax errors of `expr`; empty when it parses. Lezer recovers from errors instead of throwing, so
 * the check walks the tree for error nodes. Grafana's `$__rate_interval` and friends are not PromQL:
 * substitute them before calling.
 */
export function promqlSyntaxErrors(expr: string): PromqlSyntaxError[] {
  const errors: PromqlSyntaxError[] = [];
  parser.parse(expr).iterate({
    enter: (node) => {
      if (node.type.isError) errors.push({ from: node.from, to: node.to, near: expr.slice(Math.max(0, node.from - 20), node.to + 20) });
    },
  });
  return errors;
}

/** The names of the top-level node kinds of `expr` in document order, e.g. to assert a binary expression. */
export function promqlNodeNames(expr: string): string[] {
  const names: string[] = [];
  parser.parse(expr).iterate({ enter: (node) => void names.push(node.name) });
  return names;
}

/** Grafana's global variables as PromQL durations, for parsing dashboard queries. */
export function substituteGrafanaVariables(expr: string): string {
  return expr.replace(/\$__rate_interval|\$__interval|\$__range/g, '5m');
}
