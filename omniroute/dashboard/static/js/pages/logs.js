// Request logs (GET /api/usage/logs) with filters and paging, and one request in full.
import {ApiError, get, withQuery} from "../api.js";
import {setParams} from "../app.js";
import {badge, clear, fill, fmt, form, h, head, kv, panel, problem, table} from "../ui.js";

export const title = "Logs";
const FILTERS = ["keyId", "provider", "model", "status", "from", "to"];

export async function render(main, params) {
  const list = h("div");
  const detail = h("div", {id: "log-detail"});
  const more = h("div");
  const [keys, provs] = await Promise.all([get("/api/keys"), get("/api/providers")]);
  const keyNames = Object.fromEntries(keys.keys.map((k) => [k.id, k.name]));
  const state = Object.fromEntries(FILTERS.map((f) => [f, params.get(f) || ""]));
  let rows = [];
  let cursor = null;
  const show = (id) => {
    setParams({...state, id});
    for (const tr of list.querySelectorAll("tr.selected")) tr.classList.remove("selected");
    return fill(detail, () => record(id, keyNames));
  };
  const draw = () => {
    clear(list, table({caption: `${rows.length} request${rows.length === 1 ? "" : "s"}, newest first`, rows, empty: "No request matches.",
      onRow: (r, tr) => { show(r.id); tr.classList.add("selected"); detail.scrollIntoView?.({block: "nearest"}); },
      rowLabel: (r) => `Request ${r.model} at ${fmt.date(r.timestamp)}, status ${r.status}: show details`,
      columns: columns(keyNames)}));
    clear(more, cursor ? h("button", {type: "button", onclick: page}, "Older requests") : null);
  };
  const page = async () => {
    try {
      const data = await get(withQuery("/api/usage/logs", {...state, ...fromTo(state), limit: 50, cursor}));
      rows = rows.concat(data.data);
      cursor = data.nextCursor;
      draw();
    } catch (err) {
      clear(list, problem(err));
    }
  };
  const filters = form({label: "Log filters", submit: "Filter", fields: [
    {name: "keyId", label: "API key", type: "select", value: state.keyId, options: [["", "all keys"], ...keys.keys.map((k) => [k.id, k.name])]},
    {name: "provider", label: "Provider", type: "select", value: state.provider,
      options: [["", "all providers"], ...new Set(provs.connections.map((c) => c.provider))]},
    {name: "model", label: "Model", value: state.model, placeholder: "as asked or served"},
    {name: "status", label: "Status", type: "select", value: state.status,
      options: [["", "any"], ["error", "errors"], ["4xx", "4xx"], ["5xx", "5xx"], ["429", "429"], ["200", "200"]]},
    {name: "from", label: "From", type: "datetime-local", value: state.from},
    {name: "to", label: "To", type: "datetime-local", value: state.to}],
  onSubmit: async (v) => {
    Object.assign(state, v);
    setParams(state);
    rows = [];
    cursor = null;
    clear(list, h("p", {class: "muted"}, "Loading…"));
    await page();
  }});
  main.append(head(title, "Every request the gateway served: who asked, who answered, tokens, cost and timings."),
    panel("Filters", filters), h("div", {class: "grid"}, panel("Requests", list, more), panel("Request detail", detail)));
  clear(detail, h("p", {class: "muted"}, "Choose a request to see it in full."));
  clear(list, h("p", {class: "muted"}, "Loading…"));
  await page();
  if (params.get("id")) await show(params.get("id"));
}

/** datetime-local values (local time) as ISO instants for the API. */
function fromTo(state) {
  const iso = (v) => (v ? new Date(v).toISOString() : "");
  return {from: iso(state.from), to: iso(state.to)};
}

function statusBadge(r) {
  return badge(String(r.status), r.status >= 500 ? "bad" : r.status >= 400 ? "warn" : "ok");
}

function columns(keyNames) {
  return [
    {label: "Time", value: (r) => new Date(r.timestamp).toLocaleTimeString()},
    {label: "Model", value: (r) => h("span", {}, h("code", {}, r.model), r.servedModel && r.servedModel !== r.model ? [" → ", h("code", {}, r.servedModel)] : null)},
    {label: "Key", value: (r) => (r.keyId ? keyNames[r.keyId] || r.keyId : "")},
    {label: "Status", value: statusBadge},
    {label: "Tokens in/out", num: true, value: (r) => `${fmt.int(r.usage?.inputTokens)} / ${fmt.int(r.usage?.outputTokens)}`},
    {label: "Cost", num: true, value: (r) => fmt.usd(r.cost)},
    {label: "Latency", num: true, value: (r) => fmt.ms(r.latencyMs)},
  ];
}

async function record(id, keyNames) {
  let r;
  try {
    r = await get(`/api/usage/logs/${encodeURIComponent(id)}`);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404 && !err.missing) return h("p", {class: "notice"}, `No request ${id}: it may have been pruned.`);
    throw err;
  }
  const u = r.usage || {};
  return h("div", {class: "stack"}, kv([
    ["Id", h("code", {}, r.id)], ["Time", fmt.date(r.timestamp)], ["Endpoint", r.endpoint],
    ["Status", h("span", {}, statusBadge(r), r.errorKind ? ` ${r.errorKind}` : "")], r.error && ["Error", r.error],
    ["Model asked", r.model], ["Served by", r.servedModel], ["Combo", r.combo], ["Provider", r.provider], ["Account", r.connectionId],
    ["Key", r.keyId ? `${keyNames[r.keyId] || ""} ${r.keyId}` : ""], ["Formats", `${r.clientFormat} → ${r.upstreamFormat || "—"}`],
    ["Stream", r.stream ? "yes" : "no"], ["Cache", r.cache],
    ["Tokens", `${fmt.int(u.inputTokens)} in (${fmt.int(u.cachedTokens)} cached, ${fmt.int(u.cacheWriteTokens)} written) · ${fmt.int(u.outputTokens)} out (${fmt.int(u.reasoningTokens)} reasoning)`],
    ["Cost", fmt.usd(r.cost)], ["Latency", fmt.ms(r.latencyMs)], ["Time to first token", fmt.ms(r.ttftMs)],
    ["Upstream", fmt.ms(r.upstreamMs)], ["Gateway overhead", fmt.ms(r.overheadMs)],
    ["Client", `${r.clientIp || "—"} · ${r.userAgent || "—"}`],
  ]),
  r.attempts?.length ? table({caption: "Attempts", rows: r.attempts, columns: [
    {label: "#", num: true, value: (a) => r.attempts.indexOf(a) + 1}, {label: "Model", value: (a) => a.model},
    {label: "Account", value: (a) => a.connectionId}, {label: "Status", value: (a) => String(a.status ?? "")},
    {label: "Error", value: (a) => a.errorKind}, {label: "Latency", num: true, value: (a) => fmt.ms(a.latencyMs)}]}) : null,
  r.bodies ? [h("h3", {}, "Request body"), h("pre", {}, pretty(r.bodies.requestBody)),
    h("h3", {}, "Response body"), h("pre", {}, pretty(r.bodies.responseBody))] : null);
}

function pretty(body) {
  if (body === null || body === undefined) return "—";
  if (typeof body !== "string") return JSON.stringify(body, null, 2);
  try { return JSON.stringify(JSON.parse(body), null, 2); } catch { return body; }
}
