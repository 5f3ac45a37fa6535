// Latency percentiles (GET /api/telemetry/summary), live, and the active sessions.
import {get, optional, withQuery} from "../api.js";
import {setParams} from "../app.js";
import {cards, clear, field, fill, fmt, h, head, panel, problem, table} from "../ui.js";
import {barChart} from "../chart.js";

export const title = "Latency";
const WINDOWS = [["300", "last 5 minutes"], ["3600", "last hour"], ["86400", "last 24 hours"]];

export async function render(main, params) {
  const box = h("div");
  const sessions = h("div");
  let windowS = params.get("window") || "300";
  let destroy = null;
  let timer = null;
  const windowField = field({name: "window", label: "Window", type: "select", options: WINDOWS, value: windowS});
  const live = field({name: "live", label: "Refresh every 10 s", type: "checkbox", value: true});
  const draw = async () => {
    try {
      const data = await get(withQuery("/api/telemetry/summary", {window: windowS}));
      if (destroy) destroy();
      destroy = null;
      clear(box, summary(data, (d) => { destroy = d; }));
    } catch (err) {
      clear(box, problem(err));
    }
  };
  windowField.querySelector("select").addEventListener("change", (e) => { windowS = e.target.value; setParams({window: windowS}); draw(); });
  const tick = () => { timer = setTimeout(async () => {
    if (live.querySelector("input").checked) await Promise.all([draw(), fill(sessions, sessionList)]);
    tick();
  }, 10000); };
  main.append(head(title, "Percentiles of the gateway's recent requests: total time, time to first token and the gateway's own overhead."),
    h("div", {class: "row"}, windowField, live), box, panel("Active sessions", sessions));
  clear(box, h("p", {class: "muted"}, "Loading…"));
  await Promise.all([draw(), fill(sessions, sessionList)]);
  tick();
  return () => { clearTimeout(timer); if (destroy) destroy(); };
}

const pcts = (p) => (p?.count ? `${fmt.num(p.p50)} · ${fmt.num(p.p95)} · ${fmt.num(p.p99)} ms` : "—");

function summary(data, keep) {
  const providers = Object.entries(data.providers || {});
  const chart = providers.length && barChart({title: "Latency per provider (ms)", categories: providers.map(([n]) => n), yLabel: "ms",
    format: (v) => fmt.num(v, 0), series: ["p50", "p95", "p99"].map((p) => ({label: p, values: providers.map(([, s]) => s[p] ?? 0)}))});
  if (chart) chart.ready.then(keep);
  const group = (name, map) => panel(name, table({rows: Object.entries(map || {}), empty: "No request in this window.", columns: [
    {label: "Name", value: ([n]) => h("code", {}, n)},
    {label: "Requests", num: true, value: ([, s]) => fmt.int(s.count)},
    {label: "p50", num: true, value: ([, s]) => fmt.ms(s.p50)},
    {label: "p95", num: true, value: ([, s]) => fmt.ms(s.p95)},
    {label: "p99", num: true, value: ([, s]) => fmt.ms(s.p99)}]}));
  return h("div", {},
    cards([["latency p50 · p95 · p99", pcts(data.latency)], ["time to first token p50 · p95 · p99", pcts(data.ttft)],
      ["gateway overhead p50 · p95 · p99", pcts(data.overhead)], ["requests", fmt.int(data.latency?.count)]]),
    panel("Per provider", chart ? chart.box : h("p", {class: "empty"}, "No request in this window.")),
    h("div", {class: "grid"}, group("Per model", data.models), group("Per combo", data.combos)));
}

async function sessionList() {
  const data = await optional("/api/sessions");
  if (!data) return h("p", {class: "notice missing"}, "This gateway has no sessions API (/api/sessions).");
  return table({rows: data.sessions, empty: "No client seen recently.", columns: [
    {label: "Key", value: (s) => s.keyId || "no key"},
    {label: "Client", value: (s) => s.clientIp},
    {label: "User agent", value: (s) => h("span", {class: "small"}, s.userAgent || "—")},
    {label: "Requests", num: true, value: (s) => fmt.int(s.requests)},
    {label: "Open streams", num: true, value: (s) => fmt.int(s.activeStreams)},
    {label: "Last seen", value: (s) => fmt.date(s.lastSeen)},
  ]});
}
