// Combos (named models with fallback across targets) and model aliases.
import {del, get, optional, post, put} from "../api.js";
import {action, append, badge, clear, confirmDialog, field, fill, form, h, head, nextId, panel, table, toast} from "../ui.js";

export const title = "Combos & aliases";

export const STRATEGIES = [
  ["priority", "priority — as listed"],
  ["weighted", "weighted — a weighted draw"],
  ["round-robin", "round-robin — rotate the first target"],
  ["random", "random — a uniform shuffle"],
  ["least-used", "least-used — fewest requests first"],
  ["cost-optimized", "cost-optimized — cheapest first"],
  ["latency-optimized", "latency-optimized — fastest p95 first"],
  ["lkgp", "lkgp — last known good first"],
  ["context-fit", "context-fit — only windows the prompt fits"],
];

export async function render(main) {
  const list = h("div");
  const builderBox = h("div");
  const aliases = h("div");
  const [cat, conns] = await Promise.all([optional("/api/models/catalog"), get("/api/providers")]);
  const datalist = h("datalist", {id: "model-ids"}, (cat?.models || []).map((m) => h("option", {value: m.id})));
  const refresh = () => fill(list, () => combos(list, (combo) => builder(builderBox, conns.connections, refresh, combo)));
  main.append(
    head(title, "A combo is a model name whose targets are tried in its strategy's order, falling back on failure."),
    datalist,
    panel("Combos", list),
    panel("Combo builder", builderBox),
    panel("Aliases", aliases),
  );
  builder(builderBox, conns.connections, refresh);
  await Promise.all([refresh(), fill(aliases, aliasList)]);
}

async function combos(box, edit) {
  const {combos: rows} = await get("/api/combos");
  return table({rows, empty: "No combo yet: build one below.", columns: [
    {label: "Name", value: (c) => h("code", {}, c.name)},
    {label: "Strategy", value: (c) => badge(c.strategy)},
    {label: "Targets", value: (c) => h("ol", {class: "small"}, c.models.map((m) =>
      h("li", {}, h("code", {}, m.model), m.weight !== 1 ? ` ×${m.weight}` : "", m.connectionId ? ` @${m.connectionId}` : "")))},
    {label: "Actions", value: (c) => h("div", {class: "actions"},
      action("Edit", () => edit(c), {"aria-label": `Edit ${c.name}`}),
      action("Delete", async () => {
        if (!(await confirmDialog(`Delete the combo ${c.name}?`, "Delete"))) return;
        await del(`/api/combos/${c.id}`);
        fill(box, () => combos(box, edit));
        return `${c.name} deleted`;
      }, {class: "danger", "aria-label": `Delete ${c.name}`}))},
  ]});
}

/** The builder form, empty or holding `combo` for an edit. */
function builder(box, connections, refresh, combo = null) {
  const targets = h("ol", {class: "stack", "aria-label": "Targets, in order"});
  const addTarget = (t = {model: "", weight: 1, connectionId: null}) => targets.append(targetRow(t, connections, targets));
  for (const t of combo?.models || [{model: "", weight: 1}]) addTarget(t);
  const el = form({label: "Combo builder", submit: combo ? `Save ${combo.name}` : "Create combo", fields: [
    {name: "name", label: "Name", required: true, value: combo?.name || "", placeholder: "fast"},
    {name: "strategy", label: "Strategy", type: "select", options: STRATEGIES, value: combo?.strategy || "priority"},
    {name: "config", label: "Config (JSON, optional)", type: "textarea", wide: true, value: combo ? JSON.stringify(combo.config) : "{}",
      help: "features that read it, e.g. {\"cache\": {\"exact\": {\"enabled\": false}}}", rows: 2}],
  onSubmit: async (v) => {
    let config;
    try { config = JSON.parse(v.config || "{}"); } catch { throw Object.assign(new Error("config is not valid JSON"), {param: "config"}); }
    const models = [...targets.children].map(readTarget).filter((t) => (typeof t === "string" ? t : t.model));
    const body = {name: v.name.trim(), strategy: v.strategy, models, config};
    const saved = combo ? await put(`/api/combos/${combo.id}`, body) : await post("/api/combos", body);
    refresh();
    if (!combo) builder(box, connections, refresh);
    toast(`combo ${saved.name} saved`);
    return combo ? `saved ${saved.name}` : "";
  }});
  const buttons = el.querySelector(".form-actions");
  buttons.before(h("div", {class: "wide"}, h("p", {class: "label-text"}, "Targets"), targets,
    h("div", {class: "actions"}, h("button", {type: "button", onclick: () => addTarget()}, "Add target"),
      combo && h("button", {type: "button", onclick: () => builder(box, connections, refresh)}, "New combo instead"))));
  clear(box, el);
  if (combo) el.elements.namedItem("name").focus();
}

function targetRow(t, connections, list) {
  const li = h("li", {class: "row target"});
  const n = nextId("t");
  const move = (step) => {
    const sibling = step < 0 ? li.previousElementSibling : li.nextElementSibling;
    if (sibling) step < 0 ? sibling.before(li) : sibling.after(li);
    li.querySelector("input").focus();
  };
  append(li, [
    field({name: `model-${n}`, label: "Model", value: t.model, list: "model-ids", placeholder: "provider/model, alias or combo",
      dataset: {role: "model"}}),
    field({name: `weight-${n}`, label: "Weight", type: "number", value: t.weight ?? 1, min: 0, step: "any", dataset: {role: "weight"}}),
    field({name: `conn-${n}`, label: "Account", type: "select", value: t.connectionId || "", dataset: {role: "conn"},
      options: [["", "any"], ...connections.map((c) => [c.id, `${c.name} (${c.provider})`])]}),
    h("div", {class: "actions"},
      h("button", {type: "button", "aria-label": "Move target up", onclick: () => move(-1)}, "↑"),
      h("button", {type: "button", "aria-label": "Move target down", onclick: () => move(1)}, "↓"),
      h("button", {type: "button", class: "danger", "aria-label": "Remove target", onclick: () => { if (list.children.length > 1) li.remove(); }}, "✕")),
  ]);
  return li;
}

function readTarget(li) {
  const pick = (role) => li.querySelector(`[data-role="${role}"]`).value;
  const out = {model: pick("model").trim()};
  const weight = Number(pick("weight"));
  if (pick("weight") !== "" && weight !== 1) out.weight = weight;
  if (pick("conn")) out.connectionId = pick("conn");
  return Object.keys(out).length === 1 ? out.model : out;
}

async function aliasList() {
  const list = h("div");
  const again = () => fill(list, async () => {
    const {aliases} = await get("/api/models/alias");
    const rows = Object.entries(aliases).map(([alias, model]) => ({alias, model}));
    return table({rows, empty: "No alias.", columns: [
      {label: "Alias", value: (a) => h("code", {}, a.alias)},
      {label: "Model", value: (a) => h("code", {}, a.model)},
      {label: "", value: (a) => action("Delete", async () => {
        await del(`/api/models/alias/${encodeURIComponent(a.alias)}`);
        again();
        return `alias ${a.alias} deleted`;
      }, {class: "danger", "aria-label": `Delete alias ${a.alias}`})}]});
  });
  await again();
  return h("div", {class: "stack"},
    h("p", {class: "muted small"}, "A name clients send (e.g. claude-opus-4-8 or gpt-*) routed to another model; globs match in creation order."),
    list,
    form({label: "Add an alias", submit: "Save alias", fields: [
      {name: "alias", label: "Alias", required: true, placeholder: "gpt-4"},
      {name: "model", label: "Model", required: true, list: "model-ids", placeholder: "openai/gpt-4o-mini"}],
    onSubmit: async (v, f) => {
      await post("/api/models/alias", v);
      f.reset();
      again();
      return `alias ${v.alias} → ${v.model}`;
    }}));
}
