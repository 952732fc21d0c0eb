import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { redact, redactText } from '../audit/redact.ts';
import { BerthError, ERRORS, problem, type ErrorCode, type Problem } from '../errors.ts';
import type { ApiErrorBody } from './types.ts';

interface ValidationLike {
  readonly instancePath?: string;
  readonly message?: string;
  readonly params?: Record<string, unknown>;
}

/** Fastify's own error codes that a client can cause, and the stable berth code each maps to. */
const FASTIFY_CODES: Readonly<Record<string, ErrorCode>> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'BERTH_UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BERTH_REQUEST_INVALID',
  FST_ERR_CTP_BODY_TOO_LARGE: 'BERTH_BODY_TOO_LARGE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'BERTH_SPEC_EMPTY',
  FST_ERR_CTP_INVALID_JSON_BODY: 'BERTH_SPEC_MALFORMED',
  FST_ERR_CTP_EMPTY_TYPE: 'BERTH_UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_TYPE: 'BERTH_UNSUPPORTED_MEDIA_TYPE',
};

/** Any thrown value → the berth error the API answers with. Unknown errors become BERTH_INTERNAL (details only in the log). */
export function toBerthError(err: unknown): BerthError {
  if (err instanceof BerthError) return err;
  const fe = err as Partial<FastifyError> & { validation?: readonly ValidationLike[]; validationContext?: string; type?: string };
  if (Array.isArray(fe.validation)) {
    const problems: Problem[] = fe.validation.map((v) => problem('BERTH_REQUEST_INVALID', `/${fe.validationContext ?? 'request'}${v.instancePath ?? ''}`, v.message ?? 'invalid'));
    return new BerthError('BERTH_REQUEST_INVALID', `The request is invalid: ${problems.map((p) => `${p.path} ${p.message}`).join('; ')}`, { problems });
  }
  const mapped = typeof fe.code === 'string' ? FASTIFY_CODES[fe.code] : undefined;
  if (mapped) return new BerthError(mapped, mapped === 'BERTH_SPEC_MALFORMED' ? `The body is not valid JSON: ${fe.message ?? ''}` : undefined, { cause: err });
  // JSON.parse errors from the body parser carry statusCode 400 and no Fastify code.
  if (err instanceof SyntaxError && fe.statusCode === 400) {
    return new BerthError('BERTH_SPEC_MALFORMED', `The body is not valid JSON: ${err.message}`, { cause: err });
  }
  if (fe.statusCode === 413) return new BerthError('BERTH_BODY_TOO_LARGE', undefined, { cause: err });
  if (fe.statusCode === 415) return new BerthError('BERTH_UNSUPPORTED_MEDIA_TYPE', undefined, { cause: err });
  if (fe.statusCode === 400) return new BerthError('BERTH_REQUEST_INVALID', fe.message, { cause: err });
  return new BerthError('BERTH_INTERNAL', undefined, { cause: err });
}

/** The answer for an error; secrets (tokens, passwords in URLs) an error message or problem echoes are redacted. */
export function errorBody(err: BerthError, requestId: string): ApiErrorBody {
  return { error: { code: err.code, status: err.status, message: redactText(err.message), hint: err.hint, problems: redact(err.problems), requestId } };
}

/**
 * One place where every failure becomes an `ApiErrorBody`: BerthErrors keep their code and status;
 * Fastify's validation, media-type, size and routing errors get stable berth codes.
 */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err, request, reply) => {
    const be = toBerthError(err);
    if (be.code === 'BERTH_INTERNAL') request.log.error({ err: redact(err) }, 'unhandled error');
    else if (be.status >= 500) request.log.warn({ code: be.code, msg: redactText(be.message) }, 'request failed');
    // Warnings (status 200) are never top-level errors; treat a misuse as internal.
    const status = be.status >= 400 ? be.status : ERRORS.BERTH_INTERNAL.status;
    // A server-side failure's message can name files, hosts and users (a database path, the API
    // server's address): callers who have not proved who they are get the generic words only.
    // `principal` is unset when authentication itself failed (e.g. the token store is down).
    const kind = (request.principal as typeof request.principal | undefined)?.kind;
    const anonymous = kind !== 'token' && kind !== 'oidc';
    const shown = status >= 500 && anonymous ? new BerthError(be.code) : be;
    void reply.code(status).type('application/json; charset=utf-8').send(errorBody(shown, String(request.id)));
  });
  app.setNotFoundHandler((request, reply) => {
    // The path is never echoed: a credential pasted (or percent-encoded) into a URL must not come back.
    const be = new BerthError('BERTH_ROUTE_NOT_FOUND', `No API route matches this ${request.method} request.`);
    void reply.code(404).type('application/json; charset=utf-8').send(errorBody(be, String(request.id)));
  });
}

/**
 * Fastify's `frameworkErrors` option: the router's own refusals (a malformed percent-encoding, a path
 * parameter over maxParamLength) answer before any route or error handler, by default uncoded and
 * echoing the path. A URL can carry a pasted credential, so the path is never echoed here either.
 */
export function frameworkErrors(err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const why = err.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'a path segment is too long' : err.code === 'FST_ERR_BAD_URL' ? 'the path is not valid percent-encoding' : 'the request could not be routed';
  const be = new BerthError('BERTH_REQUEST_INVALID', `The URL is invalid: ${why}.`);
  void reply.code(be.status).type('application/json; charset=utf-8').send(errorBody(be, String(request.id)));
}
