#!/usr/bin/node
// @ts-check
// The entrypoint of berth.local/postgres (/usr/local/bin/docker-entrypoint.sh, a Node.js script: the image
// has no shell). It keeps the official image's contract (docker-library/postgres docker-entrypoint.sh):
//
// - args starting with "-" run postgres with them; args naming another program run that program.
// - On the first start (no PGDATA/PG_VERSION): initdb as the server's user with POSTGRES_USER (default
//   postgres), POSTGRES_PASSWORD (or POSTGRES_PASSWORD_FILE; required unless POSTGRES_HOST_AUTH_METHOD=trust),
//   POSTGRES_INITDB_ARGS, POSTGRES_INITDB_WALDIR; `host all all all <POSTGRES_HOST_AUTH_METHOD>` (default
//   scram-sha-256) in pg_hba.conf; POSTGRES_DB (default the user) created and /docker-entrypoint-initdb.d/*.sql
//   run through a temporary server that listens on its Unix socket only; then that server stops.
// - Every start: PGDATA is mode 0700 (a volume's fsGroup walk makes it 2770, which postgres refuses).
// - Then postgres, with listen_addresses = POD_IP when set (berth's sandbox: every pod shares the host's
//   network, so a server binding `*` would also take 127.0.0.1:5432, the machine's own), else `*`.
//
// Unlike the official image: host connections from 127.0.0.1 are not trusted (in the sandbox every local
// process comes from there), the locale is C with UTF8 (no locales in the image), *.sh and compressed init
// files are skipped (no shell), and Node stays as the parent of postgres, forwarding signals (it cannot exec).
/* global require, module, process, setTimeout */
/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS: inside the image no package.json makes a script a module */
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const { appendFileSync, chmodSync, chownSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeSync } = require('node:fs');
const { constants, tmpdir } = require('node:os');
const { join } = require('node:path');

const SOCKETS = '/var/run/postgresql';
const SERVER_UID = 999;

/** @param {string} line */
function log(line) {
  process.stdout.write(`${line}\n`);
}

/** @param {string} line */
function fail(line) {
  process.stderr.write(`${line}\n`);
  return process.exit(1);
}

/** `VAR` or the contents of the file `VAR_FILE` names (the official image's Docker-secrets convention). */
function fileEnv(/** @type {NodeJS.ProcessEnv} */ env, /** @type {string} */ name) {
  const direct = env[name];
  const file = env[`${name}_FILE`];
  if (direct && file) fail(`error: both ${name} and ${name}_FILE are set (but are exclusive)`);
  return file ? readFileSync(file, 'utf8').replace(/\n$/, '') : direct ?? '';
}

/**
 * The settings the entrypoint acts on, from the environment.
 * @param {NodeJS.ProcessEnv} env
 */
function settings(env) {
  const user = fileEnv(env, 'POSTGRES_USER') || 'postgres';
  return {
    user,
    password: fileEnv(env, 'POSTGRES_PASSWORD'),
    db: fileEnv(env, 'POSTGRES_DB') || user,
    auth: env['POSTGRES_HOST_AUTH_METHOD'] || 'scram-sha-256',
    initdbArgs: (env['POSTGRES_INITDB_ARGS'] ?? '').split(/\s+/).filter(Boolean),
    waldir: env['POSTGRES_INITDB_WALDIR'] ?? '',
    pgdata: env['PGDATA'] || '/var/lib/postgresql/data',
    listen: env['POD_IP'] || '*',
  };
}

/**
 * What to run for the container's args: postgres (with init first) or another program as given.
 * @param {string[]} args
 * @returns {{ server: boolean, argv: string[] }}
 */
function plan(args) {
  const all = args.length === 0 ? ['postgres'] : args[0]?.startsWith('-') ? ['postgres', ...args] : args;
  return { server: all[0] === 'postgres' || Boolean(all[0]?.endsWith('/postgres')), argv: all };
}

/** The arguments of the final server: the entrypoint's listen address and socket first, so the container's args win. */
function serverArgs(/** @type {ReturnType<typeof settings>} */ s, /** @type {string[]} */ rest) {
  return ['-c', `listen_addresses=${s.listen}`, '-c', `unix_socket_directories=${SOCKETS}`, ...rest];
}

/** @param {string} prog @param {string[]} args @param {{ input?: string }} [opts] */
function runSync(prog, args, opts = {}) {
  const r = spawnSync(prog, args, { stdio: ['pipe', 'inherit', 'inherit'], input: opts.input ?? '', env: process.env });
  if (r.error) fail(`${prog}: ${r.error.message}`);
  if (r.status !== 0) fail(`${prog} exited with ${r.status ?? r.signal}`);
}

/** Waits for a postmaster to write "ready" into postmaster.pid (what pg_ctl -w reads), or for it to exit. */
async function untilReady(/** @type {string} */ pgdata, /** @type {import('node:child_process').ChildProcess} */ child) {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) fail('the temporary server exited during initialisation');
    try {
      const lines = readFileSync(join(pgdata, 'postmaster.pid'), 'utf8').split('\n');
      if (lines[7]?.trim() === 'ready' && Number(lines[0]) === child.pid) return;
    } catch {
      // not written yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  fail('the temporary server did not become ready in 60 s');
}

/** @param {import('node:child_process').ChildProcess} child */
function exited(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}

/** Writes the password where only this user can read it: the socket directory, else the temporary one. */
function writePasswordFile(/** @type {string} */ password) {
  for (const dir of [SOCKETS, tmpdir()]) {
    const path = join(dir, `.initdb-password-${process.pid}`);
    try {
      const fd = openSync(path, 'wx', 0o600);
      try {
        writeSync(fd, `${password}\n`);
      } finally {
        closeSync(fd);
      }
      return path;
    } catch {
      // not writable (a read-only root without the emptyDir): the next one
    }
  }
  return fail(`cannot write initdb's password file in ${SOCKETS} or ${tmpdir()}: mount a writable volume at one of them`);
}

/** First start: initdb, pg_hba.conf, the database and init scripts through a socket-only temporary server. */
async function initialise(/** @type {ReturnType<typeof settings>} */ s) {
  if (!s.password && s.auth !== 'trust') {
    fail(
      [
        'Error: Database is uninitialized and superuser password is not specified.',
        '       You must specify POSTGRES_PASSWORD to a non-empty value for the',
        '       superuser. For example, "-e POSTGRES_PASSWORD=password" on "docker run".',
        '       You may also use "POSTGRES_HOST_AUTH_METHOD=trust" to allow all connections without a password.',
      ].join('\n'),
    );
  }
  if (s.auth === 'trust') log('warning: POSTGRES_HOST_AUTH_METHOD=trust lets every host connect without a password');
  // The password never goes on a command line: a 0600 file in the pod's socket directory (an emptyDir,
  // or /tmp), removed as soon as initdb has read it. (Node's stdio "pipes" are sockets, which initdb
  // cannot open by /dev/fd path, and Node makes no FIFOs.)
  const args = ['-D', s.pgdata, `--username=${s.user}`, '--encoding=UTF8', '--locale=C', '--auth-local=trust', `--auth-host=${s.auth}`];
  const pwfile = s.password ? writePasswordFile(s.password) : undefined;
  if (pwfile) args.push(`--pwfile=${pwfile}`);
  if (s.waldir) args.push(`--waldir=${s.waldir}`);
  args.push(...s.initdbArgs);
  let code;
  try {
    code = await exited(spawn('initdb', args, { stdio: ['ignore', 'inherit', 'inherit'] }));
  } finally {
    if (pwfile) rmSync(pwfile, { force: true });
  }
  if (code !== 0) fail(`initdb exited with ${code}`);
  appendFileSync(join(s.pgdata, 'pg_hba.conf'), `\nhost all all all ${s.auth}\n`);

  const temp = spawn('postgres', ['-D', s.pgdata, '-c', 'listen_addresses=', '-c', `unix_socket_directories=${SOCKETS}`], { stdio: ['ignore', 'inherit', 'inherit'] });
  await untilReady(s.pgdata, temp);
  const psql = ['-v', 'ON_ERROR_STOP=1', '--no-psqlrc', '--no-password', '-h', SOCKETS, '-U', s.user];
  if (s.db !== 'postgres') runSync('psql', [...psql, '-d', 'postgres', '-v', `db=${s.db}`], { input: 'CREATE DATABASE :"db";\n' });
  const initDir = '/docker-entrypoint-initdb.d';
  for (const f of existsSync(initDir) ? readdirSync(initDir).sort() : []) {
    if (f.endsWith('.sql')) {
      log(`running ${initDir}/${f}`);
      runSync('psql', [...psql, '-d', s.db, '-f', join(initDir, f)]);
    } else log(`ignoring ${initDir}/${f} (this image runs only *.sql files: it has no shell)`);
  }
  temp.kill('SIGINT'); // a fast shutdown, as `pg_ctl -m fast stop`
  await exited(temp);
  log('PostgreSQL init process complete; ready for start up.');
}

async function main() {
  const { server, argv } = plan(process.argv.slice(2));
  const [prog, ...rest] = argv;
  if (server) {
    const s = settings(process.env);
    if (process.getuid?.() === 0) {
      // As the official image: root prepares the directories and runs everything as the postgres user.
      for (const dir of [s.pgdata, SOCKETS]) mkdirSync(dir, { recursive: true });
      chownSync(s.pgdata, SERVER_UID, SERVER_UID);
      chownSync(SOCKETS, SERVER_UID, SERVER_UID);
      process.setgroups?.([SERVER_UID]);
      process.setgid?.(SERVER_UID);
      process.setuid?.(SERVER_UID);
    }
    mkdirSync(s.pgdata, { recursive: true, mode: 0o700 });
    // postgres refuses a data directory with group write (an fsGroup's walk sets 2770): the official image's chmod.
    if ((statSync(s.pgdata).mode & 0o7777) !== 0o700) chmodSync(s.pgdata, 0o700);
    if (!existsSync(join(s.pgdata, 'PG_VERSION'))) await initialise(s);
    else log('PostgreSQL Database directory appears to contain a database; Skipping initialization');
    rest.unshift(...serverArgs(s, []));
  }
  const child = spawn(/** @type {string} */ (prog), rest, { stdio: 'inherit' });
  child.on('error', (e) => fail(`${prog}: ${e.message}`));
  // Node cannot exec: it stays as the parent and passes every stop and reload signal on.
  for (const sig of /** @type {NodeJS.Signals[]} */ (['SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGHUP', 'SIGUSR1', 'SIGUSR2'])) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => process.exit(code ?? 128 + (signal ? constants.signals[signal] : 0)));
}

if (require.main === module) main().catch((e) => fail(e instanceof Error ? e.stack ?? e.message : String(e)));
module.exports = { plan, settings, serverArgs };
