// Limits and budgets: the gateway-wide rate limit, per-key limits, budgets per key, routing
// policies and the pricing table budgets are counted with.
import {del, get, post, put} from "../api.js";
import {action, confirmDialog, fill, fmt, form, h, head, panel, table} from "../ui.js";

export const title = "Limits & budgets";

export async function render(main) {
  const global = h("div");
  const keyLimits = h("div");
  const budgets = h("div");
  const policies = h("div");
  const pricing = h("div");
  const {keys} = await get("/api/keys");
  const names = Object.fromEntries(keys.map((k) => [k.id, k.name]));
  main.append(head(title, "Requests and tokens per minute, spend per key, and which models a key may use."),
    h("div", {class: "grid"}, panel("Whole gateway", global), panel("Per key", keyLimits)),
    panel("Budgets", budgets), panel("Policies", policies), panel("Pricing", pricing));
  await Promise.all([
    fill(global, globalForm),
    fill(keyLimits, () => table({rows: keys.filter((k) => !k.revoked), empty: "No active key.", columns: [
      {label: "Key", value: (k) => k.name},
      {label: "Requests / min", num: true, value: (k) => (k.rpm ? fmt.int(k.rpm) : "no limit")},
      {label: "Tokens / min", num: true, value: (k) => (k.tpm ? fmt.int(k.tpm) : "no limit")},
      {label: "", value: () => h("a", {href: "#/keys"}, "Edit on API keys")}]})),
    fill(budgets, () => budgetList(keys, names)),
    fill(policies, () => policyList(keys, names)),
    fill(pricing, pricingTable),
  ]);
}

async function globalForm() {
  const limit = await get("/api/rate-limit");
  return form({label: "Gateway rate limit", fields: [
    {name: "rpm", label: "Requests / minute", type: "number", min: 0, value: limit.rpm, help: "0 = off"},
    {name: "tpm", label: "Tokens / minute", type: "number", min: 0, value: limit.tpm, help: "0 = off"}],
  onSubmit: async (v) => {
    const saved = await put("/api/rate-limit", {rpm: v.rpm || 0, tpm: v.tpm || 0});
    return `saved: ${saved.rpm || "no"} rpm, ${saved.tpm || "no"} tpm per ${saved.windowS} s`;
  }});
}

async function budgetList(keys, names) {
  const list = h("div");
  const again = () => fill(list, async () => table({rows: (await get("/api/usage/budget")).budgets, empty: "No budget: keys may spend without limit.", columns: [
      {label: "Key", value: (b) => names[b.keyId] || b.keyId},
      {label: "Period", value: (b) => b.period},
      {label: "Spent", num: true, value: (b) => `${fmt.usd(b.spent)} of ${fmt.usd(b.limit)}`},
      {label: "Used", value: (b) => {
        const share = b.limit ? Math.min(b.spent / b.limit, 1) : 1;
        const bar = h("div", {class: `bar${share >= 1 ? " over" : ""}`, role: "meter", "aria-valuemin": "0", "aria-valuemax": "100",
          "aria-valuenow": String(Math.round(share * 100)), "aria-label": `${names[b.keyId] || b.keyId} budget used`}, h("span"));
        bar.firstChild.style.width = `${share * 100}%`;
        return bar;
      }},
      {label: "Resets", value: (b) => fmt.date(b.resetsAt)},
      {label: "", value: (b) => action("Remove", async () => {
        if (!(await confirmDialog(`Remove the budget of ${names[b.keyId] || b.keyId}?`, "Remove"))) return;
        await del(`/api/usage/budget?keyId=${encodeURIComponent(b.keyId)}`);
        again();
        return "budget removed";
      }, {class: "danger", "aria-label": `Remove the budget of ${names[b.keyId] || b.keyId}`})}]}));
  await again();
  return h("div", {class: "stack"}, list,
    form({label: "Set a budget", submit: "Set budget", fields: [
      {name: "keyId", label: "API key", type: "select", required: true, options: [["", "Choose…"], ...keys.map((k) => [k.id, k.name])]},
      {name: "limit", label: "Limit (USD)", type: "number", min: 0, step: "0.01", required: true},
      {name: "period", label: "Period", type: "select", options: ["daily", "weekly", "monthly"], value: "monthly"}],
    onSubmit: async (v, f) => {
      await post("/api/usage/budget", v);
      f.reset();
      again();
      return `budget set for ${names[v.keyId]}`;
    }}));
}

async function policyList(keys, names) {
  const globs = (s) => s.split(",").map((x) => x.trim()).filter(Boolean);
  const list = h("div");
  const again = () => fill(list, async () => table({rows: (await get("/api/policies")).policies, empty: "No policy: every key may use every model.", columns: [
      {label: "Name", value: (p) => p.name},
      {label: "Keys", value: (p) => (p.keyIds.length ? p.keyIds.map((k) => names[k] || k).join(", ") : "every request")},
      {label: "Allow", value: (p) => h("code", {}, p.allow.join(", ") || "*")},
      {label: "Deny", value: (p) => h("code", {}, p.deny.join(", ") || "—")},
      {label: "Rewrite", value: (p) => Object.entries(p.rewrite).map(([a, b]) => `${a} → ${b}`).join(", ")},
      {label: "", value: (p) => action("Delete", async () => {
        await del(`/api/policies/${p.id}`);
        again();
        return `policy ${p.name} deleted`;
      }, {class: "danger", "aria-label": `Delete policy ${p.name}`})}]}));
  await again();
  return h("div", {class: "stack"}, list,
    form({label: "Add a policy", submit: "Add policy", fields: [
      {name: "name", label: "Name", required: true},
      {name: "keyIds", label: "Key", type: "select", options: [["", "every request"], ...keys.map((k) => [k.id, k.name])]},
      {name: "allow", label: "Allow (globs)", placeholder: "openai/*, groq/*"},
      {name: "deny", label: "Deny (globs)", placeholder: "*/gpt-4o"}],
    onSubmit: async (v, f) => {
      await post("/api/policies", {name: v.name, keyIds: v.keyIds ? [v.keyIds] : [], allow: globs(v.allow), deny: globs(v.deny)});
      f.reset();
      again();
      return `policy ${v.name} added`;
    }}));
}

async function pricingTable() {
  const list = h("div");
  const again = () => fill(list, async () => {
    const {pricing, unit} = await get("/api/pricing");
    const rows = Object.entries(pricing).sort(([a], [b]) => a.localeCompare(b));
    return h("details", {}, h("summary", {}, `${rows.length} priced models (${unit})`), table({rows, columns: [
      {label: "Model", value: ([m]) => h("code", {}, m)},
      {label: "Input", num: true, value: ([, p]) => p.input},
      {label: "Output", num: true, value: ([, p]) => p.output},
      {label: "Cached input", num: true, value: ([, p]) => p.cachedInput},
      {label: "Cache write", num: true, value: ([, p]) => p.cacheWrite}]}));
  });
  await again();
  return h("div", {class: "stack"}, list,
    form({label: "Set a price", submit: "Save price", fields: [
      {name: "model", label: "Model (provider/model or bare id)", required: true},
      {name: "input", label: "Input / 1M tokens", type: "number", min: 0, step: "any", required: true},
      {name: "output", label: "Output / 1M tokens", type: "number", min: 0, step: "any", required: true},
      {name: "cachedInput", label: "Cached input", type: "number", min: 0, step: "any"},
      {name: "cacheWrite", label: "Cache write", type: "number", min: 0, step: "any"}],
    onSubmit: async (v) => {
      const price = {input: v.input, output: v.output};
      if (v.cachedInput !== null) price.cachedInput = v.cachedInput;
      if (v.cacheWrite !== null) price.cacheWrite = v.cacheWrite;
      await put("/api/pricing", {pricing: {[v.model]: price}});
      again();
      return `price of ${v.model} saved`;
    }}));
}
