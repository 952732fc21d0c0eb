import type { FastifyInstance } from 'fastify';
import { throwIfProblems } from '../../appspec/loadApps.ts';
import { valueProblems } from '../../appspec/specLimits.ts';
import { BerthError, problem } from '../../errors.ts';
import { createYamlBodyParser, YamlBody, type YamlBodyParser } from './yamlBodyParser.ts';

export const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml'];

/** Longest a YAML body may take to parse and validate in the worker before it is refused. */
export const YAML_DEADLINE_MS = 10_000;

/**
 * The only bodies berth reads: JSON and YAML. Fastify's text/plain parser is removed (docs/api.md
 * promises 415 for anything else). JSON.parse is native and linear, so JSON is parsed in place, then
 * walked once for the spec limits (a JSON value nested 10,000 deep would overflow the validators'
 * stack); YAML goes to a worker thread (docs/adr/0005).
 */
export function registerBodyParsers(app: FastifyInstance, opts: { readonly yamlDeadlineMs?: number } = {}): YamlBodyParser {
  const yaml = createYamlBodyParser({ deadlineMs: opts.yamlDeadlineMs ?? YAML_DEADLINE_MS });
  app.removeContentTypeParser('text/plain');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = String(body);
    if (text === '') {
      done(new BerthError('BERTH_SPEC_EMPTY', 'The request body is empty.', { problems: [problem('BERTH_SPEC_EMPTY', '', 'request body is empty')] }), undefined);
      return;
    }
    let value: unknown;
    try {
      // JSON.parse makes "__proto__" an own key (no prototype change); valueProblems refuses it with its path.
      value = JSON.parse(text);
    } catch (e) {
      done(new BerthError('BERTH_SPEC_MALFORMED', `The body is not valid JSON: ${e instanceof Error ? e.message : String(e)}`, { cause: e }), undefined);
      return;
    }
    try {
      throwIfProblems(valueProblems(value), 'request body');
      done(null, value);
    } catch (e) {
      done(e as Error, undefined);
    }
  });
  app.addContentTypeParser(YAML_TYPES, { parseAs: 'string' }, async (_req: unknown, body: string | Buffer) => {
    const text = String(body);
    return new YamlBody(text, await yaml.parse(text));
  });
  app.addHook('onClose', async () => yaml.close());
  return yaml;
}
