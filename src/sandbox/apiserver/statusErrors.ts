import { ApiError } from '../types.ts';
import type { StatusObject } from '../types.ts';
import { groupKind, groupResource } from './resourceRegistry.ts';
import type { ResourceDef } from './resourceRegistry.ts';

type Details = NonNullable<StatusObject['details']>;

export function statusObject(code: number, reason: string, message: string, details?: Details): StatusObject {
  const s: StatusObject = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
  if (details) s.details = details;
  return s;
}

export function apiError(code: number, reason: string, message: string, details?: Details): ApiError {
  return new ApiError(statusObject(code, reason, message, details));
}

function gr(d: { group: string; resource: string }, name: string): Details {
  const det: Details = { name };
  if (d.group) det.group = d.group;
  det.kind = d.resource;
  return det;
}

export function notFound(d: { group: string; resource: string }, name: string): ApiError {
  return apiError(404, 'NotFound', `${groupResource(d)} "${name}" not found`, gr(d, name));
}

export function resourceNotFound(): ApiError {
  return apiError(404, 'NotFound', 'the server could not find the requested resource', {});
}

export function alreadyExists(d: { group: string; resource: string }, name: string): ApiError {
  return apiError(409, 'AlreadyExists', `${groupResource(d)} "${name}" already exists`, gr(d, name));
}

export function conflict(d: { group: string; resource: string }, name: string, why: string): ApiError {
  return apiError(409, 'Conflict', `Operation cannot be fulfilled on ${groupResource(d)} "${name}": ${why}`, gr(d, name));
}

export const MODIFIED = 'the object has been modified; please apply your changes to the latest version and try again';

export function forbidden(d: { group: string; resource: string }, name: string, why: string): ApiError {
  return apiError(403, 'Forbidden', `${groupResource(d)} "${name}" is forbidden: ${why}`, gr(d, name));
}

export function badRequest(message: string): ApiError {
  return apiError(400, 'BadRequest', message);
}

export function methodNotAllowed(message = 'the server does not allow this method on the requested resource'): ApiError {
  return apiError(405, 'MethodNotAllowed', message, {});
}

export function gone(message: string): ApiError {
  return apiError(410, 'Expired', message);
}

export function internalError(message: string): ApiError {
  return apiError(500, 'InternalError', `Internal error occurred: ${message}`, { causes: [{ reason: '', message }] });
}

/** One field error in apimachinery's field.Error shape. */
export interface FieldError {
  type: 'FieldValueRequired' | 'FieldValueInvalid' | 'FieldValueNotSupported' | 'FieldValueForbidden' | 'FieldValueDuplicate' | 'FieldValueTooLong' | 'FieldValueNotFound';
  field: string;
  /** The "Invalid value: ...: detail" text after the field, as field.Error.ErrorBody() renders it. */
  body: string;
}

function quote(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v === null || v === undefined) return 'null';
  return JSON.stringify(v);
}

export const fieldErr = {
  required: (field: string, detail = ''): FieldError => ({ type: 'FieldValueRequired', field, body: detail ? `Required value: ${detail}` : 'Required value' }),
  invalid: (field: string, value: unknown, detail: string): FieldError => ({
    type: 'FieldValueInvalid',
    field,
    body: `Invalid value: ${quote(value)}${detail ? `: ${detail}` : ''}`,
  }),
  /** Like `invalid`, for values kube-apiserver prints with Go's %#v (maps, structs). */
  invalidGo: (field: string, goValue: string, detail: string): FieldError => ({ type: 'FieldValueInvalid', field, body: `Invalid value: ${goValue}: ${detail}` }),
  notSupported: (field: string, value: unknown, supported: readonly string[]): FieldError => ({
    type: 'FieldValueNotSupported',
    field,
    body: `Unsupported value: ${quote(value)}: supported values: ${supported.map((s) => JSON.stringify(s)).join(', ')}`,
  }),
  forbidden: (field: string, detail: string): FieldError => ({ type: 'FieldValueForbidden', field, body: `Forbidden: ${detail}` }),
  duplicate: (field: string, value: unknown): FieldError => ({ type: 'FieldValueDuplicate', field, body: `Duplicate value: ${quote(value)}` }),
  tooLong: (field: string, max: number): FieldError => ({ type: 'FieldValueTooLong', field, body: `Too long: may not be more than ${max} bytes` }),
};

/** 422 Invalid in kube-apiserver's shape: `Deployment.apps "x" is invalid: spec.selector: Required value`. */
export function invalid(d: ResourceDef, name: string, errs: readonly FieldError[]): ApiError {
  const parts = errs.map((e) => `${e.field}: ${e.body}`);
  const summary = parts.length === 1 ? parts[0] : `[${parts.join(', ')}]`;
  const details: Details = { name };
  if (d.group) details.group = d.group;
  details.kind = d.kind;
  details.causes = errs.map((e) => ({ reason: e.type, message: e.body, field: e.field }));
  return apiError(422, 'Invalid', `${groupKind(d)} "${name}" is invalid: ${summary}`, details);
}
