// Resilience: account states (cooldowns, auth failures, breakers), availability per model,
// the resilience profile and its overrides, and the reset.
import {get, post, put} from "../api.js";
import {action, badge, confirmDialog, fill, fmt, form, h, head, panel, stateBadge, table} from "../ui.js";

export const title = "Resilience";

export async function render(main) {
  const accounts = h("div");
  const breakers = h("div");
  const profile = h("div");
  const avail = h("div");
  const refresh = () => Promise.all([fill(accounts, accountList), fill(breakers, breakerList), fill(avail, availability)]);
  main.append(head(title, "Accounts the router skips for now, why, and until when; how quickly it gives up on a failing upstream.",
    action("Reset breakers and cooldowns", async () => {
      if (!(await confirmDialog("Close every breaker and clear every cooldown and auth failure?", "Reset"))) return;
      await post("/api/resilience/reset");
      refresh();
      return "every breaker closed, every cooldown cleared";
    }, {class: "danger"})),
  panel("Accounts", accounts), h("div", {class: "grid"}, panel("Circuit breakers", breakers), panel("Models", avail)),
  panel("Profile and overrides", profile));
  await Promise.all([refresh(), fill(profile, () => profileForms(profile))]);
}

async function accountList() {
  const {accounts} = await get("/api/rate-limits");
  return table({rows: accounts, empty: "No account.", columns: [
    {label: "Account", value: (a) => `${a.name} (${a.provider})`},
    {label: "State", value: (a) => stateBadge(a.state)},
    {label: "Why", value: (a) => a.reason},
    {label: "Cooling until", value: (a) => (a.coolingUntil ? fmt.date(a.coolingUntil) : "")},
    {label: "Last error", value: (a) => a.lastError && h("span", {class: "small"}, a.lastError)},
    {label: "Upstream requests left", num: true, value: (a) => a.remainingRequests},
  ]});
}

async function breakerList() {
  const {breakers} = await get("/api/resilience");
  return table({rows: breakers, empty: "No breaker has seen a failure.", columns: [
    {label: "Provider", value: (b) => b.provider},
    {label: "Account", value: (b) => b.connectionId || "whole provider"},
    {label: "State", value: (b) => stateBadge(b.state)},
    {label: "Failures", num: true, value: (b) => b.failures},
    {label: "Open until", value: (b) => (b.openUntil ? fmt.date(b.openUntil) : "")},
  ]});
}

async function availability() {
  const {models} = await get("/api/models/availability");
  return table({rows: models, empty: "No model.", columns: [
    {label: "Model", value: (m) => h("code", {}, m.model)},
    {label: "Available", value: (m) => (m.available ? badge("yes", "ok") : badge("no", "bad"))},
    {label: "Accounts", value: (m) => h("span", {class: "small"}, m.accounts.map((a) => `${a.connectionId}: ${a.state}`).join(", "))},
  ]});
}

async function profileForms(box) {
  const doc = await get("/api/resilience");
  const again = () => fill(box, () => profileForms(box));
  const settingFields = Object.entries(doc.settings).map(([k, v]) => ({name: k, label: k, type: "number", value: v, step: "any",
    help: k in (doc.overrides || {}) ? "overridden" : null}));
  const providerNames = Object.keys(doc.providers || {});
  return h("div", {class: "stack"},
    form({label: "Resilience profile", submit: "Use profile", fields: [
      {name: "profile", label: "Profile", type: "select", options: doc.profiles, value: doc.profile,
        help: "a profile chosen by name drops the global overrides below"}],
    onSubmit: async (v) => { await put("/api/resilience", {profile: v.profile}); again(); return `profile ${v.profile}`; }}),
    h("h3", {}, "Settings in force"),
    form({label: "Resilience settings", submit: "Save overrides", fields: settingFields, onSubmit: async (v) => {
      const changed = Object.fromEntries(Object.entries(v).filter(([k, val]) => val !== null && val !== doc.settings[k]));
      if (!Object.keys(changed).length) return "nothing changed";
      await put("/api/resilience", {settings: changed});
      again();
      return `saved ${Object.keys(changed).join(", ")}`;
    }}),
    h("h3", {}, "Per-provider overrides"),
    providerNames.length ? table({rows: providerNames, columns: [{label: "Provider", value: (p) => p},
      {label: "Overrides", value: (p) => h("code", {}, JSON.stringify(doc.providers[p]))}]}) : h("p", {class: "empty"}, "None."),
    form({label: "Provider override", submit: "Set override", fields: [
      {name: "provider", label: "Provider id", required: true},
      {name: "setting", label: "Setting", type: "select", options: Object.keys(doc.settings).filter((k) => k !== "requestTimeoutS")},
      {name: "value", label: "Value", type: "number", step: "any", required: true}],
    onSubmit: async (v) => {
      await put("/api/resilience", {providers: {[v.provider]: {[v.setting]: v.value}}});
      again();
      return `${v.provider}: ${v.setting} = ${v.value}`;
    }}));
}
