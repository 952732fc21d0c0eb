/**
 * The entrypoint of the sandbox's `postgres` image, after the official image's
 * docker-entrypoint.sh: on first start (no `PG_VERSION` in PGDATA) initdb as the server's user with
 * POSTGRES_USER (default postgres) and POSTGRES_PASSWORD (required unless
 * POSTGRES_HOST_AUTH_METHOD=trust), POSTGRES_INITDB_ARGS, every host connection (127.0.0.1 too:
 * all of this machine's processes connect from there) authenticated with POSTGRES_HOST_AUTH_METHOD
 * (default scram-sha-256), then POSTGRES_DB (default the user) created
 * through a temporary server that listens on its Unix socket only. Then postgres itself, listening
 * on the pod IP only, with its socket in the pod's private directory, never /var/run/postgresql.
 * Run as `sh -c <this> postgres [args...]`; the runtime sets PGDATA and BERTH_PG_* to host paths.
 */
export const POSTGRES_ENTRYPOINT = String.raw`set -eu
bin="$BERTH_PG_BIN"
user="${'$'}{POSTGRES_USER:-postgres}"
db="${'$'}{POSTGRES_DB:-$user}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  if [ -z "${'$'}{POSTGRES_PASSWORD:-}" ] && [ "${'$'}{POSTGRES_HOST_AUTH_METHOD:-}" != trust ]; then
    echo 'Error: Database is uninitialized and superuser password is not specified.' >&2
    echo '       You must specify POSTGRES_PASSWORD to a non-empty value for the superuser.' >&2
    echo '       You may also use "POSTGRES_HOST_AUTH_METHOD=trust" to allow all connections without a password.' >&2
    exit 1
  fi
  pwopt=
  if [ -n "${'$'}{POSTGRES_PASSWORD:-}" ]; then
    pwfile="$BERTH_PG_SOCKETS/.initdb-password"
    printf '%s\n' "$POSTGRES_PASSWORD" > "$pwfile"
    pwopt="--pwfile=$pwfile"
  fi
  # Every process of this machine connects from 127.0.0.1, so host connections from there are not
  # trusted as in a container: all of them use the host method. POSTGRES_INITDB_ARGS is split into words.
  "$bin/initdb" -D "$PGDATA" --username="$user" $pwopt --encoding=UTF8 --locale=C --auth-local=trust --auth-host="${'$'}{POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}" ${'$'}{POSTGRES_INITDB_ARGS:-}
  rm -f "$BERTH_PG_SOCKETS/.initdb-password"
  printf '\nhost all all all %s\n' "${'$'}{POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}" >> "$PGDATA/pg_hba.conf"
  "$bin/pg_ctl" -D "$PGDATA" -w -o "-c listen_addresses='' -c unix_socket_directories=$BERTH_PG_SOCKETS" start
  if [ "$db" != postgres ]; then
    echo 'CREATE DATABASE :"db";' | "$bin/psql" -v ON_ERROR_STOP=1 --no-psqlrc --no-password -h "$BERTH_PG_SOCKETS" -U "$user" -d postgres -v db="$db"
  fi
  "$bin/pg_ctl" -D "$PGDATA" -m fast -w stop
  echo 'PostgreSQL init process complete; ready for start up.'
fi
exec "$bin/postgres" -D "$PGDATA" -c listen_addresses="$BERTH_PG_LISTEN" -c unix_socket_directories="$BERTH_PG_SOCKETS" "$@"
`;

/**
 * The `berth.local/s3` server (run with `node -e`): @20minutes/s3rver storing buckets as files
 * under BERTH_S3_DIR, on BERTH_S3_ADDRESS:PORT. Credentials from S3_ACCESS_KEY/S3_SECRET_KEY (or
 * MINIO_ROOT_USER/MINIO_ROOT_PASSWORD) replace s3rver's fixed S3RVER/S3RVER pair, and requests that
 * carry no signature at all are refused (s3rver would serve them anonymously). S3_BUCKETS
 * (comma-separated) are created at start. `GET /minio/health/live|ready` answer 200 for probes.
 */
export const S3_SERVER_SOURCE = String.raw`'use strict';
const http = require('node:http');
const path = require('node:path');
const S3rver = require(process.env.BERTH_S3RVER_MAIN);
const Account = require(path.join(path.dirname(process.env.BERTH_S3RVER_MAIN), 'models', 'account.js'));
const accessKey = process.env.S3_ACCESS_KEY || process.env.MINIO_ROOT_USER || '';
const secretKey = process.env.S3_SECRET_KEY || process.env.MINIO_ROOT_PASSWORD || '';
const credentials = Boolean(accessKey && secretKey);
if (credentials) {
  Account.DUMMY_ACCOUNT.revokeAccessKey('S3RVER');
  Account.DUMMY_ACCOUNT.createKeyPair(accessKey, secretKey);
}
const buckets = (process.env.S3_BUCKETS || '').split(',').map((b) => b.trim()).filter(Boolean).map((name) => ({ name, configs: [] }));
const s3 = new S3rver({ directory: process.env.BERTH_S3_DIR, configureBuckets: buckets, vhostBuckets: false, silent: false });
const handle = s3.callback();
const signed = (req) => {
  const q = new URL(req.url, 'http://x').searchParams;
  return 'authorization' in req.headers || q.has('X-Amz-Algorithm') || q.has('Signature');
};
const server = http.createServer((req, res) => {
  const p = (req.url || '/').split('?')[0];
  if (req.method === 'GET' && (p === '/minio/health/live' || p === '/minio/health/ready')) { res.end(); return; }
  if (credentials && !signed(req)) {
    res.writeHead(403, { 'content-type': 'application/xml' });
    res.end('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>');
    return;
  }
  handle(req, res);
});
s3.configureBuckets().then(() => {
  server.listen(Number(process.env.PORT || 9000), process.env.BERTH_S3_ADDRESS || '127.0.0.1', () => {
    console.log('S3-compatible server (s3rver) listening on ' + process.env.BERTH_S3_ADDRESS + ':' + (process.env.PORT || 9000) + ', data in ' + process.env.BERTH_S3_DIR);
  });
}, (err) => { console.error(err); process.exit(1); });
for (const s of ['SIGTERM', 'SIGINT']) process.on(s, () => { server.close(() => process.exit(0)); server.closeAllConnections(); });
`;
