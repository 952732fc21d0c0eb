/** Time series with uPlot (small, fast, canvas): health, latency and scaling charts, and sparklines. */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface Series {
  readonly label: string;
  readonly values: readonly (number | null)[];
  readonly color: string;
  /** On the right-hand axis (in `unit2`), e.g. CPU % beside replica counts. */
  readonly right?: boolean;
  /** Held until the next value (replica counts change in steps); gaps are bridged. */
  readonly stepped?: boolean;
  readonly dash?: readonly number[];
  /** Bridge missing x values (when two series of different sampling share one x array). */
  readonly bridge?: boolean;
}

const stepped = uPlot.paths.stepped?.({ align: 1 });
/** Counts and percentages read against zero: a line at 60 % must not look like the bottom of the chart. */
const fromZero = (_u: uPlot, min: number, max: number): uPlot.Range.MinMax => [Math.min(0, min), Math.max(1, max * 1.1)];

/** `sync`: charts with the same key move one cursor (e.g. a load run's requests and its replicas). */
/**
 * `xRange` (seconds): the window shown whatever the data covers (one point alone would span years).
 * `relative`: x is seconds since a start (a load run's axis), labelled "+30 s" rather than clock time.
 */
export function TimeChart({ title, x, series, unit, unit2, sync, xRange, relative = false, height = 180 }: { title: string; x: readonly number[]; series: readonly Series[]; unit: string; unit2?: string; sync?: string; xRange?: readonly [number, number]; relative?: boolean; height?: number }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const opts: uPlot.Options = {
      width: Math.max(240, el.clientWidth),
      height,
      series: [
        {},
        ...series.map((s) => {
          const u = s.right ? (unit2 ?? '') : unit;
          return {
            label: s.label,
            stroke: s.color,
            width: 1.5,
            scale: s.right ? 'y2' : 'y',
            spanGaps: s.stepped === true || s.bridge === true,
            ...(s.stepped && stepped ? { paths: stepped } : {}),
            ...(s.dash ? { dash: [...s.dash] } : {}),
            value: (_u: uPlot, v: number | null) => (v === null ? '—' : `${Number(v.toFixed(3))}${u ? ` ${u}` : ''}`),
          };
        }),
      ],
      axes: [
        relative ? { incrs: [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600], values: (_u: uPlot, ticks: number[]) => ticks.map((t) => `${t < 0 ? '' : '+'}${t} s`) } : {},
        { scale: 'y', values: (_u: uPlot, ticks: number[]) => ticks.map((t) => `${t}${unit ? ` ${unit}` : ''}`), size: 70 },
        ...(series.some((s) => s.right) ? [{ scale: 'y2', side: 1, grid: { show: false }, values: (_u: uPlot, ticks: number[]) => ticks.map((t) => `${t}${unit2 ? ` ${unit2}` : ''}`), size: 75 }] : []),
      ],
      scales: { x: { time: !relative, ...(xRange ? { range: (): uPlot.Range.MinMax => [xRange[0], xRange[1]] } : {}) }, y: { range: fromZero }, y2: { range: fromZero } },
      legend: { live: true },
      ...(sync ? { cursor: { sync: { key: sync } } } : {}),
    };
    const plot = new uPlot(opts, [x as number[], ...series.map((s) => s.values as (number | null)[])] as uPlot.AlignedData, el);
    const ro = new ResizeObserver(() => plot.setSize({ width: Math.max(240, el.clientWidth), height }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.destroy();
    };
  }, [x, series, unit, unit2, sync, xRange?.[0], xRange?.[1], relative, height]);
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
        // Dots as well as the line: a minute with probes between minutes without any is still seen.
        series: [{}, { stroke: '#c2410c', width: 1, fill: 'rgba(194,65,12,0.15)', points: { show: true, size: 3, width: 0, fill: '#c2410c' } }],
      },
      [x, values as (number | null)[]],
      el,
    );
    return () => plot.destroy();
  }, [values]);
  return <span class="spark" ref={box} role="img" aria-label={label} />;
}
