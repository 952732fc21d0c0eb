/**
 * Hand-written Prometheus text exposition (format 0.0.4). The service exports a handful of series, which
 * does not justify a dependency; the rules that matter are kept here: one HELP and TYPE line per family,
 * cumulative `le` buckets ending in `+Inf`, and `+Inf` equal to `_count`.
 */

export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** prom-client's defaults; 10 s covers the longest `/work` request. */
export const DEFAULT_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export type CodeClass = `${1 | 2 | 3 | 4 | 5}xx`;

export function codeClass(status: number): CodeClass {
  const hundreds = Math.min(5, Math.max(1, Math.floor(status / 100))) as 1 | 2 | 3 | 4 | 5;
  return `${hundreds}xx`;
}

export interface Gauge {
  readonly name: string;
  readonly help: string;
  readonly value: number;
}

/** Conventional names (the Prometheus client libraries'), which berth's rules and dashboard read. */
export const REQUESTS_BY_CODE = 'http_requests_total';
export const DURATION = 'http_request_duration_seconds';

/** A cumulative histogram in the text format: `le` buckets ending in `+Inf`, which equals `_count`. */
class Histogram {
  /** Per-bucket (non-cumulative) counts; index `bounds.length` is the overflow above the last bound. */
  private readonly counts: number[];
  private sum = 0;
  private count = 0;

  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Array<number>(bounds.length + 1).fill(0);
  }

  observe(seconds: number): void {
    let i = this.bounds.findIndex((bound) => seconds <= bound);
    if (i === -1) i = this.bounds.length;
    this.counts[i] = (this.counts[i] ?? 0) + 1;
    this.sum += seconds;
    this.count += 1;
  }

  render(name: string, help: string, lines: string[]): void {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} histogram`);
    let cumulative = 0;
    this.bounds.forEach((bound, i) => {
      cumulative += this.counts[i] ?? 0;
      lines.push(`${name}_bucket{le="${formatNumber(bound)}"} ${cumulative}`);
    });
    lines.push(`${name}_bucket{le="+Inf"} ${this.count}`, `${name}_sum ${formatNumber(this.sum)}`, `${name}_count ${this.count}`);
  }
}

export class HelloMetrics {
  // Pre-seeded so `rate()` and error-ratio rules see a 0 series before the first error happens.
  private readonly requests = new Map<CodeClass, number>([
    ['2xx', 0],
    ['4xx', 0],
    ['5xx', 0],
  ]);
  // Same reason: berth's rules divide 5xx by all codes, and a missing 500 series would make the
  // error ratio "no data" instead of 0 until the first failure.
  private readonly byCode = new Map<number, number>([
    [200, 0],
    [500, 0],
  ]);
  private readonly ok: Histogram;
  private readonly all: Histogram;

  constructor(buckets: readonly number[] = DEFAULT_BUCKETS) {
    const sorted = [...buckets].sort((a, b) => a - b);
    if (sorted.some((b, i) => !Number.isFinite(b) || (i > 0 && b === sorted[i - 1]))) {
      throw new Error('histogram buckets must be finite and distinct');
    }
    this.ok = new Histogram(sorted);
    this.all = new Histogram(sorted);
  }

  /** Records one finished response; `hello_http_request_duration_seconds` only sees 2xx responses. */
  observe(status: number, seconds: number): void {
    const cls = codeClass(status);
    this.requests.set(cls, (this.requests.get(cls) ?? 0) + 1);
    this.byCode.set(status, (this.byCode.get(status) ?? 0) + 1);
    this.all.observe(seconds);
    if (cls === '2xx') this.ok.observe(seconds);
  }

  requestCount(cls: CodeClass): number {
    return this.requests.get(cls) ?? 0;
  }

  render(gauges: readonly Gauge[] = []): string {
    const lines: string[] = [];

    lines.push(
      '# HELP hello_http_requests_total HTTP requests answered, by status code class.',
      '# TYPE hello_http_requests_total counter',
    );
    for (const [cls, n] of [...this.requests].sort(([a], [b]) => a.localeCompare(b))) {
      lines.push(`hello_http_requests_total{code_class="${cls}"} ${formatNumber(n)}`);
    }
    this.ok.render('hello_http_request_duration_seconds', 'Latency of 2xx HTTP responses in seconds.', lines);

    lines.push(`# HELP ${REQUESTS_BY_CODE} HTTP requests answered, by status code.`, `# TYPE ${REQUESTS_BY_CODE} counter`);
    for (const [code, n] of [...this.byCode].sort(([a], [b]) => a - b)) lines.push(`${REQUESTS_BY_CODE}{code="${code}"} ${formatNumber(n)}`);
    this.all.render(DURATION, 'Latency of every answered HTTP response in seconds.', lines);

    for (const g of gauges) {
      lines.push(`# HELP ${g.name} ${escapeHelp(g.help)}`, `# TYPE ${g.name} gauge`, `${g.name} ${formatNumber(g.value)}`);
    }
    // The format requires the exposition to end with a line feed.
    return lines.join('\n') + '\n';
  }
}

export function formatNumber(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  return String(n);
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}
