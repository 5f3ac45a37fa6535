// The audit log of management actions (GET /api/compliance/audit-log).
import {get, withQuery} from "../api.js";
import {setParams} from "../app.js";
import {badge, fill, fmt, form, h, head, panel, table} from "../ui.js";

export const title = "Audit log";

export async function render(main, params) {
  const list = h("div");
  const state = {limit: params.get("limit") || "100", q: params.get("q") || ""};
  const draw = () => fill(list, async () => {
    const {entries} = await get(withQuery("/api/compliance/audit-log", {limit: state.limit}));
    const q = state.q.toLowerCase();
    const rows = q ? entries.filter((e) => JSON.stringify(e).toLowerCase().includes(q)) : entries;
    return table({caption: `${rows.length} of the last ${entries.length} entries`, rows, empty: "No entry.", columns: [
      {label: "Time", value: (e) => fmt.date(e.timestamp)},
      {label: "Action", value: (e) => h("code", {}, e.action)},
      {label: "Target", value: (e) => e.target},
      {label: "Actor", value: (e) => e.actor},
      {label: "Address", value: (e) => e.ip},
      {label: "Outcome", value: (e) => badge(e.outcome + (e.status ? ` ${e.status}` : ""),
        /^(ok|success)/.test(e.outcome) ? "ok" : e.outcome ? "bad" : "")},
    ]});
  });
  main.append(head(title, "Who changed what through the management API, newest first."),
    panel("Filter", form({label: "Audit filter", submit: "Show", fields: [
      {name: "limit", label: "Entries", type: "select", value: state.limit, options: ["50", "100", "500", "1000"]},
      {name: "q", label: "Containing", type: "search", value: state.q, placeholder: "action, target, address…"}],
    onSubmit: async (v) => { Object.assign(state, v); setParams(state); await draw(); }})),
    panel("Entries", list));
  await draw();
}
