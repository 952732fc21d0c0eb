/** Time series with uPlot (small, fast, canvas): health, latency and scaling charts, and sparklines. */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface Series {
  readonly label: string;
  readonly values: readonly (number | null)[];
  readonly color: string;
}

export function TimeChart({ title, x, series, unit, height = 180 }: { title: string; x: readonly number[]; series: readonly Series[]; unit: string; height?: number }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const opts: uPlot.Options = {
      width: Math.max(240, el.clientWidth),
      height,
      series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.color, width: 1.5, spanGaps: false, value: (_u: uPlot, v: number | null) => (v === null ? '—' : `${Number(v.toFixed(3))} ${unit}`) }))],
      axes: [{}, { values: (_u: uPlot, ticks: number[]) => ticks.map((t) => `${t} ${unit}`), size: 70 }],
      scales: { x: { time: true } },
      legend: { live: true },
    };
    const plot = new uPlot(opts, [x as number[], ...series.map((s) => s.values as (number | null)[])] as uPlot.AlignedData, el);
    const ro = new ResizeObserver(() => plot.setSize({ width: Math.max(240, el.clientWidth), height }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.destroy();
    };
  }, [x, series, unit, height]);
  return (
    <figure class="chart">
      <figcaption>{title}</figcaption>
      <div ref={box} role="img" aria-label={`${title} chart`} />
    </figure>
  );
}

/** The last hour's error ratio per minute, 60 values oldest first (null = no probe that minute). */
export function Sparkline({ values, label }: { values: readonly (number | null)[]; label: string }) {
  const box = useRef<HTMLSpanElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const x = values.map((_, i) => i);
    const plot = new uPlot(
      {
        width: 90,
        height: 22,
        pxAlign: false,
        cursor: { show: false },
        select: { show: false, left: 0, top: 0, width: 0, height: 0 },
        legend: { show: false },
        scales: { x: { time: false }, y: { range: [0, 1] } },
        axes: [{ show: false }, { show: false }],
        series: [{}, { stroke: '#c2410c', width: 1, fill: 'rgba(194,65,12,0.15)' }],
      },
      [x, values as (number | null)[]],
      el,
    );
    return () => plot.destroy();
  }, [values]);
  return <span class="spark" ref={box} role="img" aria-label={label} />;
}
