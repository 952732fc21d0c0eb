import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ValueErrorType, type ValueError } from '@sinclair/typebox/errors';
import { problem, type Problem } from '../errors.ts';
import { AppSchema, schemaErrorCode } from './appSchema.ts';
import { closest } from './formats.ts';

/**
 * Structural problems (shape, types, ranges, patterns) of a parsed document, from TypeBox's error
 * iterator, translated into berth's stable codes and plain-word messages.
 */
export function structuralProblems(doc: unknown): Problem[] {
  return schemaProblems(AppSchema, doc);
}

/** The same translation for another berth document schema (the Stack, src/stacks/stackSchema.ts). */
export function schemaProblems(schema: TSchema, doc: unknown): Problem[] {
  const out: Problem[] = [];
  const missing = new Set<string>();
  collect(schema, doc, '', out, missing);
  return out;
}

function collect(schema: TSchema, value: unknown, base: string, out: Problem[], missing: Set<string>): void {
  for (const e of Value.Errors(schema, value)) {
    const path = base + e.path;
    // TypeBox reports a missing required property twice: once as "required", once as its type.
    if (missing.has(path)) continue;
    if (e.type === ValueErrorType.ObjectRequiredProperty) missing.add(path);
    if (e.type === ValueErrorType.Union) {
      const variant = variantFor(e.schema, e.value);
      if (variant) collect(variant, e.value, path, out, missing);
      else out.push(problem('BERTH_SPEC_TYPE', path, `${fieldName(path)} must be ${describeUnion(e.schema)}, not ${jsonType(e.value)}`, { value: e.value }));
      continue;
    }
    out.push(translate(e, path));
  }
}

function translate(e: ValueError, path: string): Problem {
  const s = e.schema as Record<string, unknown>;
  const name = fieldName(path);
  const value = e.value;
  switch (e.type) {
    case ValueErrorType.ObjectAdditionalProperties: {
      const key = name;
      const known = Object.keys((s.properties as Record<string, unknown> | undefined) ?? {});
      const suggestion = closest(key, known);
      return problem('BERTH_SPEC_UNKNOWN_FIELD', path, `unknown field "${key}"${suggestion ? `; did you mean "${suggestion}"?` : ''}`, {
        value,
        hint: suggestion ? `Rename "${key}" to "${suggestion}".` : `Remove "${key}"; allowed here: ${known.join(', ')}.`,
      });
    }
    case ValueErrorType.ObjectRequiredProperty:
      return problem('BERTH_SPEC_REQUIRED', path, `${name} is required`);
    case ValueErrorType.Literal: {
      const expected = JSON.stringify(s.const);
      if (path === '/apiVersion') return problem('BERTH_SPEC_API_VERSION', path, `apiVersion must be ${expected}, not ${JSON.stringify(value)}`, { value });
      if (path === '/kind') return problem('BERTH_SPEC_KIND', path, `kind must be ${expected}, not ${JSON.stringify(value)}`, { value });
      return problem('BERTH_SPEC_ENUM', path, `${name} must be ${expected}`, { value });
    }
    case ValueErrorType.StringPattern:
      return problem(schemaErrorCode(e.schema) ?? 'BERTH_SPEC_PATTERN', path, `${name} ${JSON.stringify(value)} is not valid: ${patternText(e.schema)}`, { value });
    case ValueErrorType.StringMaxLength:
      return problem('BERTH_SPEC_TOO_LONG', path, `${name} must be at most ${String(s.maxLength)} characters (got ${String(value).length})`, { value });
    case ValueErrorType.StringMinLength:
      return problem('BERTH_SPEC_REQUIRED', path, `${name} must not be empty`, { value });
    case ValueErrorType.IntegerMinimum:
    case ValueErrorType.NumberMinimum:
      return problem('BERTH_SPEC_RANGE', path, `${name} must be at least ${String(s.minimum)}`, { value });
    case ValueErrorType.IntegerMaximum:
    case ValueErrorType.NumberMaximum:
      return problem('BERTH_SPEC_RANGE', path, `${name} must be at most ${String(s.maximum)}`, { value });
    case ValueErrorType.NumberExclusiveMinimum:
    case ValueErrorType.IntegerExclusiveMinimum:
      return problem('BERTH_SPEC_RANGE', path, `${name} must be greater than ${String(s.exclusiveMinimum)}`, { value });
    case ValueErrorType.ArrayMinItems:
      return problem('BERTH_SPEC_RANGE', path, `${name} must have at least ${String(s.minItems)} item(s)`, { value });
    case ValueErrorType.Integer:
      if (typeof value === 'number') return problem('BERTH_SPEC_TYPE', path, `${name} must be a whole number`, { value });
      return typeProblem(path, 'an integer', value);
    case ValueErrorType.Number:
      return typeProblem(path, 'a number', value);
    case ValueErrorType.String:
      return typeProblem(path, 'a string', value);
    case ValueErrorType.Boolean:
      return typeProblem(path, 'true or false', value);
    case ValueErrorType.Array:
      return typeProblem(path, 'a list', value);
    case ValueErrorType.Object:
      return typeProblem(path, 'a mapping (object)', value);
    default:
      return problem('BERTH_SPEC_TYPE', path, `${name}: ${e.message}`, { value });
  }
}

function typeProblem(path: string, expected: string, value: unknown): Problem {
  const quote = expected === 'a string' && (typeof value === 'number' || typeof value === 'boolean');
  return problem('BERTH_SPEC_TYPE', path, `${fieldName(path)} must be ${expected}, not ${jsonType(value)}`, {
    value,
    ...(quote ? { hint: `Quote the value in YAML: "${String(value)}".` } : {}),
  });
}

/** The union member matching the value's JSON type, so errors describe that member's fields. */
function variantFor(schema: TSchema, value: unknown): TSchema | undefined {
  const variants = ((schema as Record<string, unknown>).anyOf as TSchema[] | undefined) ?? [];
  const t = jsonType(value);
  const typed = variants.filter((v) => schemaType(v) === t || (t === 'integer' && schemaType(v) === 'number'));
  // A literal of the right type that did not match is better reported as "must be X or Y".
  const nonLiteral = typed.filter((v) => !('const' in v));
  return nonLiteral.length === 1 ? nonLiteral[0] : undefined;
}

function schemaType(s: TSchema): string | undefined {
  if ('const' in s) return jsonType(s.const);
  return typeof s.type === 'string' ? s.type : undefined;
}

function describeUnion(schema: TSchema): string {
  const variants = ((schema as Record<string, unknown>).anyOf as TSchema[] | undefined) ?? [];
  const words = variants.map((v) => {
    if ('const' in v) return JSON.stringify(v.const);
    if (v.type === 'object') return 'a mapping (object)';
    if (v.type === 'array') return 'a list';
    if (v.type === 'string' && v.pattern === '^\\d+%$') return 'a percentage like "25%"';
    return `${v.type === 'integer' ? 'an' : 'a'} ${String(v.type)}`;
  });
  return words.length <= 1 ? (words[0] ?? 'valid') : `${words.slice(0, -1).join(', ')} or ${words.at(-1) ?? ''}`;
}

function patternText(schema: TSchema): string {
  switch (schemaErrorCode(schema)) {
    case 'BERTH_SPEC_NAME':
      return 'use lower-case letters, digits and "-", starting and ending with a letter or digit';
    case 'BERTH_SPEC_QUANTITY':
      return 'use a Kubernetes quantity such as 100m, 0.5, 128Mi or 1Gi';
    case 'BERTH_SPEC_DURATION':
      return 'use a duration such as 500ms, 10s, 5m or 1h';
    case 'BERTH_SPEC_PATH':
      return 'an HTTP path must start with "/"';
    default:
      return `it must match ${String(schema.pattern)}`;
  }
}

export function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  if (typeof v === 'object') return 'object';
  return typeof v;
}

function fieldName(path: string): string {
  const last = path.split('/').at(-1) ?? '';
  return last.replace(/~1/g, '/').replace(/~0/g, '~') || 'document';
}
