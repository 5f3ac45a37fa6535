// Charts with the vendored uPlot (vendor/uplot-1.6.32, MIT), loaded by the pages that draw one.
// Every chart is an image with a label saying what it shows, followed by its data as a table
// (in a <details>) for keyboard and screen-reader users.
import {h, nextId, table} from "./ui.js";

const UPLOT = "/dashboard/vendor/uplot-1.6.32/";
export const COLORS = ["#2f5bd3", "#d9822b", "#1c9c6c", "#c23b6e", "#7b61ff", "#8a8f98"];
let loading = null;

function loadUplot() {
  if (window.uPlot) return Promise.resolve(window.uPlot);
  if (!loading) {
    loading = new Promise((resolve, reject) => {
      document.head.append(h("link", {rel: "stylesheet", href: UPLOT + "uPlot.min.css"}));
      const script = h("script", {src: UPLOT + "uPlot.iife.min.js"});
      script.addEventListener("load", () => resolve(window.uPlot));
      script.addEventListener("error", () => reject(new Error("the chart library did not load")));
      document.head.append(script);
    });
  }
  return loading;
}

function axisColors() {
  const style = getComputedStyle(document.documentElement);
  return {text: style.getPropertyValue("--muted").trim() || "#5b6475", grid: style.getPropertyValue("--line").trim() || "#ddd"};
}

function axis(colors, extra = {}) {
  return {stroke: colors.text, grid: {stroke: colors.grid, width: 1}, ticks: {stroke: colors.grid, width: 1}, ...extra};
}

/** The chart's box: an image labelled `title`, then the data table. Answers {box, plotEl}. */
function frame(title, dataTable) {
  const id = nextId("chart");
  const plotEl = h("div", {class: "chart", role: "img", "aria-label": title, id});
  const box = h("figure", {class: "chart-box", style: null}, plotEl,
    h("details", {}, h("summary", {}, `${title}: data table`), dataTable));
  box.style.margin = "0";
  return {box, plotEl};
}

function mount(plotEl, make) {
  const width = () => Math.max(plotEl.clientWidth || plotEl.parentElement.clientWidth || 600, 280);
  const plot = make(width());
  const observer = new ResizeObserver(() => plot.setSize({width: width(), height: plot.height}));
  observer.observe(plotEl);
  return () => { observer.disconnect(); plot.destroy(); };
}

/**
 * A time series: x = epoch seconds; series = [{label, values, format}].
 * Answers {box, ready: Promise<destroy>}.
 */
export function timeChart({title, x, series, height = 240, yLabel = "", yFormat = null}) {
  const rows = x.map((t, i) => ({t, values: series.map((s) => s.values[i])}));
  const dataTable = table({caption: title, rows,
    columns: [{label: "time", value: (r) => new Date(r.t * 1000).toLocaleString()},
      ...series.map((s, j) => ({label: s.label, num: true, value: (r) => (s.format || String)(r.values[j] ?? 0)}))]});
  const {box, plotEl} = frame(title, dataTable);
  const ready = loadUplot().then((uPlot) => mount(plotEl, (width) => {
    const colors = axisColors();
    return new uPlot({
      width, height, legend: {live: true},
      series: [{}, ...series.map((s, j) => ({label: s.label, stroke: COLORS[j % COLORS.length], width: 2,
        fill: COLORS[j % COLORS.length] + "22", points: {show: x.length < 60}, value: (u, v) => (v == null ? "—" : (s.format || String)(v))}))],
      axes: [axis(colors), axis(colors, {label: yLabel, size: 70,
        ...(yFormat ? {values: (u, splits) => splits.map((v) => yFormat(v))} : {})})],
      scales: {x: {time: true}},
    }, [x, ...series.map((s) => s.values)], plotEl);
  }));
  return {box, ready};
}

/** Grouped bars: one group per category, one bar per series (e.g. p50/p95/p99 per provider). */
export function barChart({title, categories, series, height = 240, yLabel = "", format = String}) {
  const rows = categories.map((c, i) => ({c, values: series.map((s) => s.values[i])}));
  const dataTable = table({caption: title, rows,
    columns: [{label: "", value: (r) => r.c}, ...series.map((s, j) => ({label: s.label, num: true, value: (r) => format(r.values[j])}))]});
  const {box, plotEl} = frame(title, dataTable);
  const ready = loadUplot().then((uPlot) => mount(plotEl, (width) => {
    const colors = axisColors();
    const n = series.length;
    const x = categories.map((_, i) => i);
    const w = 0.8 / n;  // each group takes 0.8 of its slot; bars placed in data units
    const bars = (j) => uPlot.paths.bars({gap: 2, disp: {
      x0: {unit: 3, values: () => x.map((i) => i - 0.4 + j * w)},
      size: {unit: 3, values: () => x.map(() => w)}}});
    return new uPlot({
      width, height, legend: {live: false},
      series: [{}, ...series.map((s, j) => ({label: s.label, fill: COLORS[j % COLORS.length], stroke: COLORS[j % COLORS.length],
        paths: bars(j), points: {show: false}}))],
      axes: [axis(colors, {splits: () => x, values: (u, splits) => splits.map((v) => categories[v] ?? ""), gap: 4}),
        axis(colors, {label: yLabel, size: 60, values: (u, splits) => splits.map((v) => format(v))})],
      scales: {x: {time: false, range: () => [-0.6, categories.length - 0.4]}, y: {range: (u, lo, hi) => [0, hi * 1.1 || 1]}},
      cursor: {show: false},
    }, [x, ...series.map((s) => s.values)], plotEl);
  }));
  return {box, ready};
}
