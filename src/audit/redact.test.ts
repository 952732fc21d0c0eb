import { describe, expect, it } from 'vitest';
import { REDACTED, redact, redactHeaders, redactText } from './redact.ts';

const TOKEN = 'berth_0123456789abcdef_Zm9vYmFyYmF6cXV4cXV1eHh5enp5eXl4eHh3d3d2dnY';
const JWT = 'eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLWJ5dGVz';

describe('redactText', () => {
  it.each([
    [`token ${TOKEN} leaked`, TOKEN],
    [`GET /v1/apps?x=${TOKEN}`, TOKEN],
    ['Authorization: Bearer abc.def-ghi', 'abc.def-ghi'],
    ['authorization=Basic dXNlcjpwYXNz', 'dXNlcjpwYXNz'],
    ['{"authorization":"Bearer s3cr3t"}', 's3cr3t'],
    [`id_token=${JWT}`, 'c2lnbmF0dXJlLWJ5dGVz'],
    [`bearer? no: ${JWT}`, 'eyJzdWIiOiJhbGljZSJ9'],
    ['postgres://berth:hunter2@db:5432/berth', 'hunter2'],
    ['redis://:p%40ss@cache:6379', 'p%40ss'],
    ['/v1/apps?dsn=postgres%3A%2F%2Fberth%3Ahunter2%40db%3A5432%2Fberth', 'hunter2'],
    ['DB_PASSWORD=hunter2 next', 'hunter2'],
    ['client_secret: abcdef123', 'abcdef123'],
    ['https://x/cb?access_token=qwerty&state=1', 'qwerty'],
    ['api-key="k-123"', 'k-123'],
    ['-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAK\n-----END RSA PRIVATE KEY-----', 'MIIBOgIBAAJBAK'],
  ])('removes the secret from %j', (input, secret) => {
    const out = redactText(input);
    expect(out).not.toContain(secret);
    expect(out).toContain(REDACTED);
  });

  it('redacts a token percent-encoded into a URL path or query, whichever characters are escaped', () => {
    const everyChar = [...TOKEN].map((c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`).join('');
    for (const url of [`GET /v1/${encodeURIComponent(TOKEN).replaceAll('_', '%5F')}/x`, `GET /v1/${everyChar}`, `GET /v1/apps?t=${everyChar.replaceAll('%', '%25')}`]) {
      const out = redactText(url);
      expect(out).toContain(REDACTED);
      expect(out).not.toContain('Zm9vYmFy');
      expect(out).not.toContain('%5A%6D%39'.toLowerCase());
    }
    expect(redactText('GET /v1/apps/caf%C3%A9?q=a%20b')).toBe('GET /v1/apps/caf%C3%A9?q=a%20b');
  });

  it('redacts secrets, not the words around them: the 401 message stays readable', () => {
    const message = 'This route needs credentials: send Authorization: Bearer <token>.';
    expect(redactText(message)).toBe(message);
    expect(redactText('Authorization: Bearer abc.def-ghi')).toBe(`Authorization: Bearer ${REDACTED}`);
    expect(redactText('password: hunter2 and more')).toBe(`password: ${REDACTED} and more`);
    expect(redactText('password: secret')).toBe(`password: ${REDACTED}`);
    expect(redactText('token: "abc" next')).toBe(`token: "${REDACTED}" next`);
  });

  it('leaves ordinary text, policy action names and secret references alone', () => {
    for (const s of [
      'image nginx:1.27 → nginx:1.28; env MESSAGES changed; replicas 2 → 3',
      'role viewer may not tokens:admin (needs admin)',
      'secretEnv DB_PASSWORD added',
      'postgres://berth@db:5432/berth',
      'berth token create --name ci',
    ]) {
      expect(redactText(s)).toBe(s);
    }
  });
});

describe('redact (deep)', () => {
  it('replaces values of secret-looking keys, keeps secret references, and does not mutate the input', () => {
    const input = {
      databaseUrl: 'postgres://u:pw@h/db',
      password: 'hunter2',
      nested: { apiKey: 'k', list: [`x ${TOKEN}`], clientSecret: 'cs', token: null },
      headers: { Authorization: 'Bearer zzz', cookie: 'sid=1' },
      spec: { secretEnv: { DB_PASSWORD: { secret: 'db', key: 'password' } }, env: { MESSAGES: 'hi' } },
      secretHash: 'scrypt$1$2$3$salt$hash',
    };
    const copy = structuredClone(input);
    const out = redact(input);
    expect(input).toEqual(copy);
    expect(out).toEqual({
      databaseUrl: `postgres://u:${REDACTED}@h/db`,
      password: REDACTED,
      nested: { apiKey: REDACTED, list: [`x ${REDACTED}`], clientSecret: REDACTED, token: null },
      headers: { Authorization: REDACTED, cookie: REDACTED },
      spec: { secretEnv: { DB_PASSWORD: { secret: 'db', key: 'password' } }, env: { MESSAGES: 'hi' } },
      secretHash: REDACTED,
    });
  });

  it('redacts errors and survives cycles', () => {
    const e = new Error(`connect failed for postgres://a:b@c/d with ${TOKEN}`);
    const out = redact({ err: e }) as { err: { message: string } };
    expect(out.err.message).toBe(`connect failed for postgres://a:${REDACTED}@c/d with ${REDACTED}`);
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic['self'] = cyclic;
    expect(redact(cyclic)).toEqual({ a: 1, self: '[circular]' });
  });

  it('redactHeaders removes credentials of every kind', () => {
    expect(redactHeaders({ authorization: 'Bearer x', 'x-api-key': 'k', 'x-berth-token': TOKEN, 'set-cookie': ['a=1'], accept: 'text/plain', 'x-note': `see ${TOKEN}` })).toEqual({
      authorization: REDACTED,
      'x-api-key': REDACTED,
      'x-berth-token': REDACTED,
      'set-cookie': REDACTED,
      accept: 'text/plain',
      'x-note': `see ${REDACTED}`,
    });
  });
});
