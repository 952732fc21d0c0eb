import { describe, expect, it } from 'vitest';
import { SseParser } from './sseParser.ts';

describe('SseParser', () => {
  it('parses id, event and multi-line data and dispatches on a blank line', () => {
    const p = new SseParser();
    expect(p.push('id: 7\nevent: status\ndata: {"a":\ndata: 1}\n\n')).toEqual([{ id: '7', event: 'status', data: '{"a":\n1}' }]);
  });

  it('reassembles events split anywhere across chunks, including inside \\r\\n', () => {
    const text = 'id: 1\r\nevent: status\r\ndata: one\r\n\r\n: heartbeat\r\n\r\nid: 2\r\ndata: two\r\n\r\n';
    for (let cut = 1; cut < text.length; cut++) {
      const p = new SseParser();
      const got = [...p.push(text.slice(0, cut)), ...p.push(text.slice(cut))];
      expect(got, `cut at ${cut}`).toEqual([
        { id: '1', event: 'status', data: 'one' },
        { id: '2', event: 'message', data: 'two' },
      ]);
    }
  });

  it('ignores comments and unknown fields, reads retry, keeps a field without colon as empty', () => {
    const p = new SseParser();
    expect(p.push(': keep-alive\nfoo: bar\nretry: 250\ndata\n\n')).toEqual([{ event: 'message', data: '', retry: 250 }]);
  });

  it('reports an id-only event so the reconnect position still advances', () => {
    const p = new SseParser();
    expect(p.push('id: 42\n\n')).toEqual([{ event: '', data: '', id: '42' }]);
  });

  it('holds an unfinished event until its blank line arrives', () => {
    const p = new SseParser();
    expect(p.push('data: x\n')).toEqual([]);
    expect(p.push('\n')).toEqual([{ event: 'message', data: 'x' }]);
  });
});
