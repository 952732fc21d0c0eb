import { readFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { connectionSource, procNetAddress, socketInode } from './connectionOwner.ts';
import { parseProcStat } from './procStats.ts';

describe('connection owners from /proc', () => {
  it('writes addresses as /proc/net/tcp does', () => {
    expect(procNetAddress('127.0.0.1', 8080)).toBe('0100007F:1F90');
    expect(procNetAddress('127.96.1.2', 80)).toBe('0201607F:0050');
  });

  it('finds the process group holding the client end of an accepted connection', async () => {
    const accepted = new Promise<Socket>((resolve) => {
      const server = createServer((s) => resolve(s));
      server.listen(0, '127.0.0.1', () => {
        const port = (server.address() as { port: number }).port;
        const c = connect({ host: '127.0.0.1', port });
        c.on('error', () => undefined);
        server.unref();
      });
    });
    const s = await accepted;
    const local = { address: s.localAddress ?? '', port: s.localPort ?? 0 };
    const remote = { address: s.remoteAddress ?? '', port: s.remotePort ?? 0 };
    expect(await socketInode(remote, local)).toBeGreaterThan(0);
    const pgid = parseProcStat(readFileSync('/proc/self/stat', 'utf8'))?.pgrp ?? -1;
    // This test process holds both ends; as a "container" of pod ns/p it is the connection's source.
    expect(await connectionSource([{ pgid, namespace: 'ns', pod: 'p' }], local, remote)).toEqual({ namespace: 'ns', name: 'p' });
    expect(await connectionSource([{ pgid: pgid + 1_000_000, namespace: 'ns', pod: 'other' }], local, remote)).toBeUndefined();
    // Held by no pod: the host's when the sandbox's own user owns the socket, else nobody's to trust.
    expect(await connectionSource([], local, remote)).toBeUndefined();
    const uid = process.getuid?.() ?? 0;
    expect(await connectionSource([{ pgid: pgid + 1_000_000, namespace: 'ns', pod: 'other' }], local, remote, uid + 1)).toBe('unknown');
    expect(await connectionSource([{ pgid, namespace: 'ns', pod: 'p' }], local, remote, uid + 1)).toEqual({ namespace: 'ns', name: 'p' });
    // A socket gone from the table (the client closed) is nobody's either.
    expect(await connectionSource([], local, { address: '127.0.0.1', port: 1 })).toBe('unknown');
    s.destroy();
  });
});
