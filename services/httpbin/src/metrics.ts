/**
 * Prometheus text exposition (format 0.0.4), by hand as in services/hello: a counter by status code
 * (`http_requests_total{code}`, the name berth's rules and dashboard read), a latency histogram and a
 * few process gauges do not justify a dependency.
 */
export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
const BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class HttpbinMetrics {
  // 200 and 500 exist from the start so an error-ratio rule reads 0, not "no data", before a failure.
  private readonly byCode = new Map<number, number>([
    [200, 0],
    [500, 0],
  ]);
  private readonly buckets = new Array<number>(BUCKETS.length + 1).fill(0);
  private sum = 0;
  private count = 0;

  observe(status: number, seconds: number): void {
    this.byCode.set(status, (this.byCode.get(status) ?? 0) + 1);
    const i = BUCKETS.findIndex((b) => seconds <= b);
    const at = i === -1 ? BUCKETS.length : i;
    this.buckets[at] = (this.buckets[at] ?? 0) + 1;
    this.sum += seconds;
    this.count += 1;
  }

  requests(status: number): number {
    return this.byCode.get(status) ?? 0;
  }

  render(gauges: readonly { name: string; help: string; value: number }[] = []): string {
    const lines = ['# HELP http_requests_total HTTP requests answered, by status code.', '# TYPE http_requests_total counter'];
    for (const [code, n] of [...this.byCode].sort(([a], [b]) => a - b)) lines.push(`http_requests_total{code="${code}"} ${n}`);
    lines.push('# HELP http_request_duration_seconds Latency of every answered HTTP response in seconds.', '# TYPE http_request_duration_seconds histogram');
    let cumulative = 0;
    BUCKETS.forEach((b, i) => {
      cumulative += this.buckets[i] ?? 0;
      lines.push(`http_request_duration_seconds_bucket{le="${b}"} ${cumulative}`);
    });
    lines.push(`http_request_duration_seconds_bucket{le="+Inf"} ${this.count}`, `http_request_duration_seconds_sum ${this.sum}`, `http_request_duration_seconds_count ${this.count}`);
    for (const g of gauges) lines.push(`# HELP ${g.name} ${g.help}`, `# TYPE ${g.name} gauge`, `${g.name} ${g.value}`);
    return lines.join('\n') + '\n';
  }
}
