#!/usr/bin/node
// @ts-check
// /bin/sh of berth.local/postgres: not a shell. initdb starts the server through popen(3) and system(3),
// which run `/bin/sh -c <command>`; glibc names that path itself, so something must be there. This runs
// exactly the command lines PostgreSQL's programs write there: one program with quoted or bare words and
// the redirections `<`, `>`, `>>`, `2>&1`, `2>` (initdb's `"postgres" --boot -X 16777216 …`, `"postgres"
// -V`, `"postgres" --check … < "/dev/null" > "/dev/null" 2>&1`). No variables, globs, pipes, lists,
// subshells or `exec`: anything else is refused with exit status 127 (docs/adr/0026).
/* global require, module, process */
/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS: inside the image no package.json makes a script a module */
'use strict';
const { spawn } = require('node:child_process');
const { closeSync, openSync } = require('node:fs');

const REFUSED = 127;

/**
 * @param {string} line
 * @returns {{ argv: string[], redirects: { fd: number, path?: string, dupOf?: number, append?: boolean, input?: boolean }[] }}
 */
function parse(line) {
  /** @type {string[]} */
  const words = [];
  /** @type {boolean[]} whether a word was quoted (a quoted `<` is a word, not a redirection) */
  const quoted = [];
  let i = 0;
  while (i < line.length) {
    const c = line[i];
    if (c === ' ' || c === '\t' || c === '\n') {
      i++;
      continue;
    }
    let word = '';
    let wasQuoted = false;
    for (; i < line.length && !' \t\n'.includes(line[i] ?? ''); ) {
      const ch = /** @type {string} */ (line[i]);
      if (ch === "'") {
        const end = line.indexOf("'", i + 1);
        if (end < 0) throw new Error('unterminated quote');
        word += line.slice(i + 1, end);
        wasQuoted = true;
        i = end + 1;
      } else if (ch === '"') {
        i++;
        for (; i < line.length && line[i] !== '"'; i++) {
          const q = line[i];
          if (q === '$' || q === '`') throw new Error(`"${q}" inside double quotes`);
          if (q === '\\' && '"\\$`'.includes(line[i + 1] ?? '')) i++;
          word += line[i];
        }
        if (line[i] !== '"') throw new Error('unterminated quote');
        wasQuoted = true;
        i++;
      } else if ('|;&$`()*?[]{}~#!'.includes(ch) && !(ch === '&' && /^\d?[<>]&\d$/.test(word + line.slice(i, i + 2)))) {
        throw new Error(`"${ch}" is shell syntax`);
      } else if (ch === '\\') {
        word += line[i + 1] ?? '';
        i += 2;
      } else {
        word += ch;
        i++;
      }
    }
    words.push(word);
    quoted.push(wasQuoted);
  }
  /** @type {{ fd: number, path?: string, dupOf?: number, append?: boolean, input?: boolean }[]} */
  const redirects = [];
  /** @type {string[]} */
  const argv = [];
  for (let w = 0; w < words.length; w++) {
    const word = /** @type {string} */ (words[w]);
    const m = quoted[w] ? null : /^(\d?)(<|>>|>)(&\d+)?(.*)$/.exec(word);
    if (!m) {
      argv.push(word);
      continue;
    }
    const input = m[2] === '<';
    const fd = m[1] ? Number(m[1]) : input ? 0 : 1;
    if (m[3]) {
      if (m[4]) throw new Error(`bad redirection ${word}`);
      redirects.push({ fd, dupOf: Number(m[3].slice(1)) });
      continue;
    }
    const path = m[4] || words[++w];
    if (path === undefined) throw new Error(`redirection ${word} without a file`);
    redirects.push({ fd, path, append: m[2] === '>>', input });
  }
  if (argv[0] === 'exec') throw new Error('"exec" cannot replace this process (pg_ctl start needs a real shell; the entrypoint starts postgres itself)');
  if (argv.length === 0) throw new Error('no command');
  return { argv, redirects };
}

function main() {
  const args = process.argv.slice(2);
  if (args[0] !== '-c' || args.length < 2) {
    process.stderr.write('sh: berth.local/postgres has no shell; /bin/sh runs only `-c <one command>` for PostgreSQL\'s own programs\n');
    return process.exit(REFUSED);
  }
  let cmd;
  try {
    cmd = parse(/** @type {string} */ (args[1]));
  } catch (e) {
    process.stderr.write(`sh: ${e instanceof Error ? e.message : String(e)}: berth.local/postgres has no shell (docs/adr/0026)\n`);
    return process.exit(REFUSED);
  }
  /** @type {number[]} */
  const fds = [0, 1, 2];
  for (const r of cmd.redirects) {
    if (r.dupOf !== undefined) fds[r.fd] = /** @type {number} */ (fds[r.dupOf] ?? r.dupOf);
    else fds[r.fd] = openSync(/** @type {string} */ (r.path), r.input ? 'r' : r.append ? 'a' : 'w');
  }
  const [file, ...rest] = cmd.argv;
  const child = spawn(/** @type {string} */ (file), rest, { stdio: fds });
  // `2>&1` makes two slots one descriptor: close each opened file once.
  for (const fd of new Set(fds)) if (fd > 2) closeSync(fd);
  child.on('error', (e) => {
    process.stderr.write(`sh: ${file}: ${(/** @type {NodeJS.ErrnoException} */ (e)).code === 'ENOENT' ? 'not found' : e.message}\n`);
    process.exit(REFUSED);
  });
  for (const sig of /** @type {NodeJS.Signals[]} */ (['SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGHUP'])) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => {
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    }
    process.exit(code ?? 128);
  });
}

if (require.main === module) main();
module.exports = { parse };
