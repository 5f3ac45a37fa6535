// Usage and cost: requests, errors, tokens and spend over time (GET /api/usage/history), per account.
import {get, optional, withQuery} from "../api.js";
import {setParams} from "../app.js";
import {cards, clear, fill, fmt, form, h, head, panel, seconds, table} from "../ui.js";
import {timeChart} from "../chart.js";

export const title = "Usage & cost";
const STEP = {hour: 3600, day: 86400};

export async function render(main, params) {
  const charts = h("div");
  const accounts = h("div");
  const [keys, provs] = await Promise.all([get("/api/keys"), get("/api/providers")]);
  const providers = [...new Set(provs.connections.map((c) => c.provider))];
  const state = {bucket: params.get("bucket") || "hour", keyId: params.get("keyId") || "", provider: params.get("provider") || "",
    model: params.get("model") || ""};
  const destroy = [];
  const draw = () => fill(charts, async () => {
    destroy.splice(0).forEach((d) => d());
    const data = await get(withQuery("/api/usage/history", state));
    return history(data, state.bucket, destroy);
  });
  const filters = form({label: "Usage filters", submit: "Show", fields: [
    {name: "bucket", label: "Per", type: "select", options: [["hour", "hour (last 48 h)"], ["day", "day (last 30 days)"]], value: state.bucket},
    {name: "keyId", label: "API key", type: "select", value: state.keyId, options: [["", "all keys"], ...keys.keys.map((k) => [k.id, k.name])]},
    {name: "provider", label: "Provider", type: "select", value: state.provider, options: [["", "all providers"], ...providers]},
    {name: "model", label: "Model", value: state.model, placeholder: "all models"}],
  onSubmit: async (v) => { Object.assign(state, v); setParams(state); await draw(); }});
  main.append(head(title, "What the gateway served and what it cost, from the usage records."),
    panel("Filters", filters), charts, panel("By account (all time)", accounts));
  await Promise.all([draw(), fill(accounts, () => byAccount(provs.connections))]);
  return () => destroy.forEach((d) => d());
}

/** Buckets with the empty ones (left out by the API) filled with zeros. */
export function series(data, bucket) {
  const step = STEP[bucket];
  const by = new Map(data.buckets.map((b) => [Math.floor(seconds(b.start) / step) * step, b]));
  let start = Math.floor(seconds(data.from || data.buckets[0]?.start) / step) * step;
  const end = seconds(data.to || data.buckets.at(-1)?.start);
  if (Number.isNaN(start)) start = Math.floor(Date.now() / 1000 / step) * step;
  const out = [];
  for (let t = start; t <= end && out.length < 2000; t += step) out.push(by.get(t) || {requests: 0, errors: 0, inputTokens: 0, outputTokens: 0, cost: 0, t});
  return out.map((b, i) => ({...b, t: start + i * step}));
}

function history(data, bucket, destroy) {
  const rows = series(data, bucket);
  const sum = (k) => data.buckets.reduce((a, b) => a + (b[k] || 0), 0);
  const x = rows.map((r) => r.t);
  const pick = (k) => rows.map((r) => r[k] || 0);
  const charts = [
    timeChart({title: "Requests and errors", x, series: [{label: "requests", values: pick("requests")}, {label: "errors", values: pick("errors")}], yLabel: "requests"}),
    timeChart({title: "Tokens", x, series: [{label: "input", values: pick("inputTokens"), format: fmt.int}, {label: "output", values: pick("outputTokens"), format: fmt.int}], yLabel: "tokens"}),
    timeChart({title: "Cost (USD)", x, series: [{label: "cost", values: pick("cost"), format: fmt.usd}], yLabel: "USD",
      yFormat: fmt.usd}),
  ];
  charts.forEach((c) => c.ready.then((d) => destroy.push(d)));
  const box = h("div");
  clear(box,
    cards([["requests", fmt.int(sum("requests"))], ["errors", fmt.int(sum("errors"))], ["input tokens", fmt.int(sum("inputTokens"))],
      ["output tokens", fmt.int(sum("outputTokens"))], ["cost", fmt.usd(sum("cost"))]]),
    h("div", {class: "grid"}, charts.map((c, i) => h("section", {class: "panel", "aria-label": ["Requests", "Tokens", "Cost"][i]}, c.box))));
  return box;
}

async function byAccount(connections) {
  const rows = (await Promise.all(connections.map(async (c) => ({c, u: await optional(`/api/usage/${encodeURIComponent(c.id)}`)}))))
    .filter((r) => r.u);
  if (connections.length && !rows.length) return h("p", {class: "notice missing"}, "This gateway has no per-account usage API (/api/usage/{connectionId}).");
  return table({rows, empty: "No connection.", columns: [
    {label: "Account", value: (r) => `${r.c.name} (${r.c.provider})`},
    {label: "Requests", num: true, value: (r) => fmt.int(r.u.requests)},
    {label: "Errors", num: true, value: (r) => fmt.int(r.u.errors)},
    {label: "Input tokens", num: true, value: (r) => fmt.int(r.u.inputTokens)},
    {label: "Output tokens", num: true, value: (r) => fmt.int(r.u.outputTokens)},
    {label: "Cost", num: true, value: (r) => fmt.usd(r.u.cost)},
    {label: "Avg latency", num: true, value: (r) => fmt.ms(r.u.avgLatencyMs)},
    {label: "Last used", value: (r) => fmt.date(r.u.lastUsed)},
  ]});
}
