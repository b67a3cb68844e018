import uPlot from 'uplot';
import { h } from './dom.js';

// Line charts on uPlot. Each chart sizes itself to its container (ResizeObserver), keeps the
// number of points it shows in `data-points` (the browser tests read it), and can render
// itself as a PNG data URL for the offline report.

/** One line of a chart. */
export interface SeriesSpec {
  readonly label: string;
  readonly color: string;
}

/** Options of a chart. */
export interface ChartOptions {
  /** Formats values on the y axis and in the legend. */
  readonly format: (v: number) => string;
  /** `time`: x is epoch seconds; `elapsed`: x is seconds since the run started (to overlay runs). */
  readonly x?: 'time' | 'elapsed';
  readonly height?: number;
}

/** Colours of the lines, readable on white and in both themes' cards. */
export const COLORS = ['#2563eb', '#ea580c', '#16a34a', '#9333ea', '#dc2626', '#0891b2'] as const;

/** A titled line chart. */
export class LineChart {
  readonly el: HTMLElement;
  readonly #plotHost: HTMLElement;
  readonly #plot: uPlot;
  readonly #resize: ResizeObserver;
  readonly #title: string;
  readonly #series: readonly SeriesSpec[];

  constructor(title: string, series: readonly SeriesSpec[], opts: ChartOptions) {
    this.#title = title;
    this.#series = series;
    this.#plotHost = h('div', { class: 'chart-plot' });
    this.el = h('figure', { class: 'chart', 'data-chart': title, 'data-points': '0' }, h('figcaption', null, title), this.#plotHost);
    const elapsed = opts.x === 'elapsed';
    const fmt = (v: number | null | undefined): string => (v === null || v === undefined ? '—' : opts.format(v));
    this.#plot = new uPlot({
      width: 320,
      height: opts.height ?? 180,
      scales: { x: { time: !elapsed } },
      series: [
        elapsed ? { label: 's', value: (_u, v) => (v === null ? '—' : `${v}s`) } : {},
        ...series.map((s) => ({ label: s.label, stroke: s.color, width: 2, points: { show: false }, spanGaps: true, value: (_u: uPlot, v: number | null) => fmt(v) })),
      ],
      axes: [
        elapsed ? { values: (_u, vs) => vs.map((v) => `${v}s`) } : {},
        { values: (_u, vs) => vs.map((v) => fmt(v)), size: 64 },
      ],
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
    }, [[], ...series.map(() => [])], this.#plotHost);
    this.#resize = new ResizeObserver(() => this.#fit());
    this.#resize.observe(this.el);
  }

  /** Replaces the data: `xs` in seconds, one array of values per line (null for a gap). */
  setData(xs: readonly number[], ys: readonly (readonly (number | null)[])[]): void {
    this.#plot.setData([xs as number[], ...ys.map((y) => y as (number | null)[])]);
    this.el.dataset['points'] = String(xs.length);
  }

  /** The chart as a PNG data URL, with its title and legend drawn in (for the offline report). */
  pngDataUrl(): string {
    const src = this.#plot.ctx.canvas;
    const ratio = src.width / Math.max(1, this.#plot.width);
    const out = document.createElement('canvas');
    const pad = 28 * ratio;
    out.width = src.width;
    out.height = src.height + pad * 2;
    const ctx = out.getContext('2d');
    if (ctx === null) return '';
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, out.width, out.height);
    ctx.fillStyle = '#111827';
    ctx.font = `${14 * ratio}px sans-serif`;
    ctx.fillText(this.#title, 8 * ratio, 19 * ratio);
    ctx.drawImage(src, 0, pad);
    let x = 8 * ratio;
    ctx.font = `${12 * ratio}px sans-serif`;
    for (const s of this.#series) {
      ctx.fillStyle = s.color;
      ctx.fillRect(x, out.height - 18 * ratio, 12 * ratio, 12 * ratio);
      ctx.fillStyle = '#111827';
      ctx.fillText(s.label, x + 16 * ratio, out.height - 8 * ratio);
      x += (24 + s.label.length * 7) * ratio;
    }
    return out.toDataURL('image/png');
  }

  /** Stops observing and frees the chart. */
  destroy(): void {
    this.#resize.disconnect();
    this.#plot.destroy();
  }

  #fit(): void {
    const width = Math.floor(this.el.clientWidth);
    if (width > 0 && width !== this.#plot.width) this.#plot.setSize({ width, height: this.#plot.height });
  }
}
