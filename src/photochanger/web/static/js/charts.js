// The statistics page's time-series charts, drawn by the vendored uPlot
// (static/vendor/uplot, loaded only on that page as the global `uPlot`).
// Colours come from app.css's custom properties, so the charts follow the
// light/dark theme; each chart keeps the width of its container.

import { h } from "./dom.js";
import { formatNumber, lang } from "./i18n.js";

const HEIGHT = 220;
const DARK = window.matchMedia("(prefers-color-scheme: dark)");
const locale = lang === "ru" ? "ru-RU" : "en-GB";
const TIME = new Intl.DateTimeFormat(locale, { hour: "2-digit", minute: "2-digit" });
const DAY = new Intl.DateTimeFormat(locale, { day: "numeric", month: "short" });

export function chartsAvailable() {
  return typeof window.uPlot === "function";
}

/** The theme's chart colours (app.css, "Statistics"). */
export function palette() {
  const style = getComputedStyle(document.documentElement);
  const value = (name) => style.getPropertyValue(name).trim();
  return {
    done: value("--chart-done"),
    degraded: value("--chart-degraded"),
    timeout: value("--chart-timeout"),
    provider: value("--chart-provider"),
    other: value("--chart-other"),
    pending: value("--chart-pending"),
    p50: value("--chart-p50"),
    p95: value("--chart-p95"),
    grid: value("--chart-grid"),
    axis: value("--muted"),
    font: `12px ${getComputedStyle(document.body).fontFamily}`,
  };
}

function timeTicks(spanSeconds) {
  return (u, splits) =>
    splits.map((seconds) => {
      const when = new Date(seconds * 1000);
      if (spanSeconds <= 36 * 3600) return TIME.format(when);
      const midnight = when.getHours() === 0 && when.getMinutes() === 0;
      return midnight ? DAY.format(when) : `${DAY.format(when)}\n${TIME.format(when)}`;
    });
}

/** The y axis as wide as its longest label ("100 ms", "12.5 s"). */
function labelWidth(u, values) {
  const longest = Math.max(1, ...(values || []).map((text) => String(text).length));
  return 14 + Math.ceil(longest * 7);
}

function axes(colours, spanSeconds, yValues) {
  const common = {
    stroke: colours.axis,
    font: colours.font,
    grid: { stroke: colours.grid, width: 1 },
    ticks: { stroke: colours.grid, width: 1, size: 4 },
  };
  return [
    { ...common, values: timeTicks(spanSeconds), space: 56, size: spanSeconds > 36 * 3600 ? 48 : 32 },
    { ...common, values: (u, splits) => splits.map(yValues), size: labelWidth, space: 28 },
  ];
}

/**
 * A chart in `container` that follows its width and the theme. `build(colours,
 * width)` answers uPlot's options and data; `onCursor(index)` hears which
 * bucket the pointer is on (null when it leaves).
 */
export function liveChart(container, build, onCursor) {
  let plot = null;
  const draw = () => {
    plot?.destroy();
    const width = Math.max(200, Math.floor(container.clientWidth));
    const { options, data } = build(palette(), width);
    options.hooks = { setCursor: [(u) => onCursor?.(u.cursor.idx ?? null)] };
    plot = new window.uPlot(options, data, container);
  };
  draw();
  let lastWidth = container.clientWidth;
  const resize = new ResizeObserver(() => {
    const width = Math.floor(container.clientWidth);
    if (!plot || !width || width === lastWidth) return;
    lastWidth = width;
    plot.setSize({ width: Math.max(200, width), height: HEIGHT });
  });
  resize.observe(container);
  DARK.addEventListener("change", draw);
  return {
    destroy() {
      resize.disconnect();
      DARK.removeEventListener("change", draw);
      plot?.destroy();
      plot = null;
    },
  };
}

const OUTCOMES = ["done", "degraded", "timeout", "provider", "other", "pending"];

/** Jobs per bucket by outcome, stacked: each series is drawn from zero with the
 * sum of itself and the outcomes below it, the tallest first, so every bar
 * shows each outcome's share. */
export function outcomeBars(buckets, bucketSeconds, { label, sync }) {
  return (colours, width) => {
    const xs = buckets.map((bucket) => Date.parse(bucket.start) / 1000 + bucketSeconds / 2);
    const counts = {
      done: buckets.map((b) => b.successes),
      degraded: buckets.map((b) => b.degraded ?? 0),
      timeout: buckets.map((b) => b.timeouts),
      provider: buckets.map((b) => b.provider_errors),
      other: buckets.map((b) => b.other_failures),
      pending: buckets.map((b) => b.pending),
    };
    const stacked = [];
    let running = buckets.map(() => 0);
    for (const name of OUTCOMES) {
      running = running.map((sum, index) => sum + counts[name][index]);
      stacked.push({ name, values: running });
    }
    stacked.reverse();
    const bars = window.uPlot.paths.bars({ size: [0.86, 64], align: 0, gap: 1 });
    const start = xs[0] - bucketSeconds / 2;
    const end = xs[xs.length - 1] + bucketSeconds / 2;
    return {
      options: {
        width,
        height: HEIGHT,
        legend: { show: false },
        cursor: { sync: { key: sync }, drag: { x: false, y: false }, points: { show: false }, y: false },
        scales: {
          x: { time: true, range: () => [start, end] },
          y: { range: (u, min, max) => [0, Math.max(4, Math.ceil(max * 1.1))] },
        },
        axes: axes(colours, end - start, (value) => formatNumber(value)).map((axis, index) =>
          index === 1 ? { ...axis, incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000] } : axis),
        series: [
          { label },
          ...stacked.map(({ name }) => ({
            label: name,
            fill: colours[name],
            stroke: colours[name],
            width: 0,
            paths: bars,
            points: { show: false },
          })),
        ],
      },
      data: [xs, ...stacked.map(({ values }) => values)],
    };
  };
}

/** p50 and p95 duration per bucket (seconds), gaps where nothing finished. */
export function durationLines(buckets, bucketSeconds, { label, sync, format }) {
  return (colours, width) => {
    const xs = buckets.map((bucket) => Date.parse(bucket.start) / 1000 + bucketSeconds / 2);
    const toSeconds = (ms) => (ms === null ? null : ms / 1000);
    const p50 = buckets.map((b) => toSeconds(b.p50_ms));
    const p95 = buckets.map((b) => toSeconds(b.p95_ms));
    const start = xs[0] - bucketSeconds / 2;
    const end = xs[xs.length - 1] + bucketSeconds / 2;
    const line = (colour, dash) => ({
      stroke: colour,
      width: 2,
      dash,
      spanGaps: false,
      points: { show: true, size: 6, fill: colour, stroke: colour },
    });
    return {
      options: {
        width,
        height: HEIGHT,
        legend: { show: false },
        cursor: { sync: { key: sync }, drag: { x: false, y: false }, y: false },
        scales: {
          x: { time: true, range: () => [start, end] },
          // From zero to a little above the slowest, however fast: echo's
          // milliseconds are as readable as a provider's 20 seconds.
          y: { range: (u, min, max) => [0, Math.max(0.01, (max || 0) * 1.2)] },
        },
        axes: axes(colours, end - start, (value) => format(value * 1000)),
        series: [{ label }, { label: "p50", ...line(colours.p50) }, { label: "p95", ...line(colours.p95, [6, 4]) }],
      },
      data: [xs, p50, p95],
    };
  };
}

/** A colour swatch and its name, for a chart's legend. */
export function legendItem(colourClass, text) {
  return h("li", {}, h("span", { class: `swatch ${colourClass}`, "aria-hidden": "true" }), text);
}
