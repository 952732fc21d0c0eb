import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { procNetAddress } from '../processruntime/connectionOwner.ts';
import type { CommandResult, PodmanCli } from './podmanCli.ts';
import { ContainerConnections, inspectInits } from './containerConnections.ts';
import type { ContainerInit } from './containerConnections.ts';

/** The Service proxy's end of every connection below, and the client ends by their socket inode. */
const PROXY = { address: '127.96.0.10', port: 80 };
const client = (port: number): { address: string; port: number } => ({ address: '127.0.0.1', port });

/** A /proc with a socket table, processes in PID namespaces and the sockets they hold. */
class FakeProc {
  readonly root = mkdtempSync(join(tmpdir(), 'berth-fake-proc-'));
  private readonly table: string[] = ['  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode'];

  constructor(ownNs: number) {
    this.process('self', ownNs, []);
  }

  /** A connection from 127.0.0.1:`port` to the proxy, whose client socket is `inode`. */
  socket(port: number, inode: number): void {
    const c = client(port);
    this.table.push(`   ${this.table.length - 1}: ${procNetAddress(c.address, c.port)} ${procNetAddress(PROXY.address, PROXY.port)} 01 00000000:00000000 00:00000000 00000000     0        0 ${inode} 1 0000000000000000 20 4 30 10 -1`);
    writeFileSync(join(this.root, 'net', 'tcp'), `${this.table.join('\n')}\n`);
  }

  process(pid: number | 'self', ns: number, sockets: number[]): void {
    const dir = join(this.root, String(pid));
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(join(dir, 'ns'), { recursive: true });
    mkdirSync(join(dir, 'fd'));
    symlinkSync(`pid:[${ns}]`, join(dir, 'ns', 'pid'));
    symlinkSync('/dev/null', join(dir, 'fd', '0'));
    sockets.forEach((s, i) => symlinkSync(`socket:[${s}]`, join(dir, 'fd', String(i + 3))));
    mkdirSync(join(this.root, 'net'), { recursive: true });
  }
}

const HOST_NS = 4026531836;

describe('connections attributed to container pods by PID namespace', () => {
  let proc: FakeProc;
  let live: string[];
  let inits: ContainerInit[];
  let inspected: string[][];
  let conns: ContainerConnections;

  beforeEach(() => {
    proc = new FakeProc(HOST_NS);
    live = ['ctr-a', 'ctr-b'];
    inits = [
      { id: 'ctr-a', pid: 200, namespace: 'shop', pod: 'api-1' },
      { id: 'ctr-b', pid: 300, namespace: 'shop', pod: 'db-0' },
    ];
    inspected = [];
    conns = new ContainerConnections({
      live: () => live,
      inspect: async (ids) => {
        inspected.push([...ids]);
        return inits.filter((i) => ids.includes(i.id));
      },
      procRoot: proc.root,
    });
    // The sandbox itself (host namespace) holds 500; container a's init 200 and its child 201; b's init 300.
    proc.process(100, HOST_NS, [500]);
    proc.process(200, 1001, []);
    proc.process(201, 1001, [600]);
    proc.process(300, 1002, [610]);
    // A container that is none of this sandbox's (another sandbox's, or the machine's own podman).
    proc.process(400, 1003, [700]);
    proc.socket(40000, 500);
    proc.socket(40001, 600);
    proc.socket(40002, 610);
    proc.socket(40003, 700);
  });
  afterEach(() => rmSync(proc.root, { recursive: true, force: true }));

  it('names the pod of the container whose process holds the client socket, asking podman once per container', async () => {
    expect(await conns.source(PROXY, client(40001))).toEqual({ namespace: 'shop', name: 'api-1' });
    expect(await conns.source(PROXY, client(40002))).toEqual({ namespace: 'shop', name: 'db-0' });
    expect(await conns.source(PROXY, client(40001))).toEqual({ namespace: 'shop', name: 'api-1' });
    expect(inspected).toEqual([['ctr-a', 'ctr-b']]);
  });

  it('leaves a socket no container process holds to the fallback (the host, or a process pod)', async () => {
    expect(await conns.source(PROXY, client(40000))).toBeUndefined();
  });

  it('never takes a process of a foreign PID namespace, or a socket gone from the table, for the host', async () => {
    expect(await conns.source(PROXY, client(40003))).toBe('unknown');
    expect(await conns.source(PROXY, client(49999))).toBe('unknown');
  });

  it('forgets a container that stopped, even when its namespace number and pid come back', async () => {
    expect(await conns.source(PROXY, client(40001))).toEqual({ namespace: 'shop', name: 'api-1' });
    live = ['ctr-b'];
    expect(await conns.source(PROXY, client(40001))).toBe('unknown');
    // A new container whose init got pid 200 again, in a new namespace: only podman's answer for it counts.
    live = ['ctr-b', 'ctr-c'];
    inits.push({ id: 'ctr-c', pid: 200, namespace: 'shop', pod: 'api-2' });
    proc.process(200, 1004, []);
    proc.process(201, 1004, [600]);
    expect(await conns.source(PROXY, client(40001))).toEqual({ namespace: 'shop', name: 'api-2' });
  });

  it('does not attribute a namespace whose first process is gone or now lives elsewhere', async () => {
    expect(await conns.source(PROXY, client(40002))).toEqual({ namespace: 'shop', name: 'db-0' });
    // Container b's init exited and its pid went to a process of the host: 610's holder is orphaned in 1002.
    proc.process(300, HOST_NS, []);
    proc.process(301, 1002, [610]);
    expect(await conns.source(PROXY, client(40002))).toBe('unknown');
  });

  it('never attributes a process of the sandbox\'s own namespace to a pod, whatever podman answers', async () => {
    // podman reports a pid that a host process reused after the container exited.
    inits = [{ id: 'ctr-a', pid: 100, namespace: 'shop', pod: 'api-1' }];
    live = ['ctr-a'];
    expect(await conns.source(PROXY, client(40000))).toBeUndefined();
    expect(await conns.source(PROXY, client(40001))).toBe('unknown');
  });
});

describe('inspectInits', () => {
  it('reads pid and pod labels of the containers podman still has', async () => {
    const calls: string[][] = [];
    const cli: PodmanCli = {
      run: async (args): Promise<CommandResult> => {
        calls.push([...args]);
        // podman prints the containers it found and fails for the one that is gone.
        return { code: 125, stdout: 'aaa|4242|shop|api-1\nbbb|0|shop|db-0\n', stderr: 'Error: no such object: "ccc"' };
      },
      spawn: () => {
        throw new Error('not used');
      },
    };
    expect(await inspectInits(cli, ['aaa', 'bbb', 'ccc'])).toEqual([{ id: 'aaa', pid: 4242, namespace: 'shop', pod: 'api-1' }]);
    expect(calls[0]?.slice(-3)).toEqual(['aaa', 'bbb', 'ccc']);
    expect(await inspectInits(cli, [])).toEqual([]);
    expect(calls).toHaveLength(1);
  });
});
