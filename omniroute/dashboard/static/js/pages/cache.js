// The cache: hit rates and sizes (GET /api/cache), clearing it, and its settings (/api/cache/config).
import {del, get, put} from "../api.js";
import {action, cards, confirmDialog, fill, fmt, form, h, head, panel} from "../ui.js";

export const title = "Cache";

export async function render(main) {
  const stats = h("div");
  const config = h("div");
  const refresh = () => fill(stats, statsView);
  main.append(head(title, "Answers served again without an upstream call: exact repeats, near-duplicates (semantic) and idempotent retries.",
    action("Clear the cache", async () => {
      if (!(await confirmDialog("Clear every cached answer, the semantic index and the idempotency keys?", "Clear"))) return;
      await del("/api/cache");
      refresh();
      return "cache cleared";
    }, {class: "danger"})),
  panel("Now", stats), panel("Settings", config));
  await Promise.all([refresh(), fill(config, () => configForm(config))]);
}

async function statsView() {
  const s = await get("/api/cache");
  const e = s.exact || {};
  const sem = s.semanticCache || {};
  const idem = s.idempotency || {};
  return h("div", {},
    h("h3", {}, "Exact"),
    cards([["hit rate", fmt.pct(e.hitRate)], ["hits", fmt.int(e.hits)], ["misses", fmt.int(e.misses)], ["entries", fmt.int(e.entries)],
      ["size", fmt.bytes(e.bytes)]]),
    h("h3", {}, "Semantic"),
    sem.available === false
      ? h("p", {class: "muted"}, "Not available: install the gateway with the [semantic] extra to answer near-duplicate prompts.")
      : cards([["hit rate", fmt.pct(sem.hitRate)], ["in memory", `${fmt.int(sem.memorySize)} / ${fmt.int(sem.memoryMaxSize)}`],
        ["stored", fmt.int(sem.dbSize)], ["embedder", sem.embedder || "—"]]),
    h("h3", {}, "Idempotency"),
    cards([["keys held", fmt.int(idem.activeKeys)], ["window", idem.windowMs !== undefined ? `${fmt.int(idem.windowMs)} ms` : "—"]]));
}

/** A form built from the settings document itself: one field per key, typed by its value. */
async function configForm(box) {
  const doc = await get("/api/cache/config");
  const fields = [];
  for (const [section, values] of Object.entries(doc)) {
    if (!values || typeof values !== "object") continue;
    for (const [key, value] of Object.entries(values)) {
      const name = `${section}.${key}`;
      if (typeof value === "boolean") fields.push({name, label: `${section} · ${key}`, type: "checkbox", value});
      else if (typeof value === "number") fields.push({name, label: `${section} · ${key}`, type: "number", value, step: "any"});
      else fields.push({name, label: `${section} · ${key}`, value: value ?? ""});
    }
  }
  return form({label: "Cache settings", fields, onSubmit: async (v) => {
    const patch = {};
    for (const [name, value] of Object.entries(v)) {
      const [section, key] = name.split(".");
      if (value !== doc[section][key] && value !== null) (patch[section] ??= {})[key] = value;
    }
    if (!Object.keys(patch).length) return "nothing changed";
    const saved = await put("/api/cache/config", patch);
    Object.assign(doc, saved);
    return `saved ${Object.keys(patch).join(", ")} settings`;
  }});
}
