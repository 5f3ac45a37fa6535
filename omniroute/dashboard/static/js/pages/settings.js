// Settings: routing and general settings, login and password, IP filter, global system
// prompt, thinking budget, upstream proxies, usage retention and the gateway process.
// Each section reads and writes its own endpoint; one this gateway lacks says so and the others work.
import {get, post, put} from "../api.js";
import {action, confirmDialog, fill, form, h, head, kv, panel} from "../ui.js";

export const title = "Settings";
const lines = (s) => s.split(/[\n,]/).map((x) => x.trim()).filter(Boolean);

export async function render(main) {
  const sections = [
    ["Routing and general", general], ["Login", login], ["IP filter", ipFilter], ["System prompt", systemPrompt],
    ["Thinking budget", thinking], ["Upstream proxy", proxy], ["Usage retention", retention], ["Gateway process", lifecycle],
  ].map(([name, build]) => ({box: h("div"), name, build}));
  main.append(head(title, "Changes apply on every worker from the next request."),
    h("div", {class: "grid"}, sections.map((s) => panel(s.name, s.box))));
  await Promise.all(sections.map((s) => fill(s.box, () => s.build(s.box))));
}

async function general() {
  const doc = await get("/api/settings");
  const shown = Object.entries(doc).filter(([k]) => !["accountStrategy", "trustedProxies"].includes(k));
  return h("div", {class: "stack"},
    form({label: "General settings", fields: [
      {name: "accountStrategy", label: "Account strategy", type: "select", value: doc.accountStrategy,
        options: [["fill-first", "fill-first — first available account takes all"], ["round-robin", "round-robin"],
          ["least-used", "least-used"]], help: "how a provider's accounts share requests"},
      "trustedProxies" in doc && {name: "trustedProxies", label: "Trusted proxies (CIDR, one a line)", type: "textarea",
        value: (doc.trustedProxies || []).join("\n"), help: "X-Forwarded-For is believed only from these"}].filter(Boolean),
    onSubmit: async (v) => {
      const body = {accountStrategy: v.accountStrategy};
      if ("trustedProxies" in v) body.trustedProxies = lines(v.trustedProxies);
      await put("/api/settings", body);
      return "saved";
    }}),
    shown.length ? kv(shown.map(([k, v]) => [k, typeof v === "object" ? JSON.stringify(v) : String(v)])) : null);
}

async function login() {
  const doc = await get("/api/settings/require-login");
  return h("div", {class: "stack"},
    form({label: "Require login", fields: [
      {name: "requireLogin", label: "Require a login from loopback clients too", type: "checkbox", value: doc.requireLogin}],
    onSubmit: async (v) => { await put("/api/settings/require-login", v); return "saved"; }}),
    h("h3", {}, doc.hasPassword ? "Change the password" : "Set a password"),
    form({label: "Password", submit: doc.hasPassword ? "Change password" : "Set password", fields: [
      doc.hasPassword && {name: "current", label: "Current password", type: "password", autocomplete: "current-password", required: true},
      {name: "new", label: "New password (8 characters or more)", type: "password", autocomplete: "new-password", required: true, minlength: 8}]
      .filter(Boolean),
    onSubmit: async (v, f) => {
      const r = await post("/api/auth/password", v);
      f.reset();
      return `password saved${r.sessionsEnded ? `; ${r.sessionsEnded} other session(s) ended` : ""}`;
    }}));
}

async function ipFilter() {
  const doc = await get("/api/settings/ip-filter");
  return form({label: "IP filter", fields: [
    {name: "mode", label: "Mode", type: "select", value: doc.mode, options: [["off", "off"], ["allow", "allow only the list"], ["block", "block the list"]]},
    {name: "allowLoopback", label: "Always let loopback in", type: "checkbox", value: doc.allowLoopback},
    {name: "allow", label: "Allow (CIDR, one a line)", type: "textarea", value: (doc.allow || []).join("\n")},
    {name: "block", label: "Block (CIDR, one a line)", type: "textarea", value: (doc.block || []).join("\n")}],
  onSubmit: async (v) => {
    await put("/api/settings/ip-filter", {mode: v.mode, allowLoopback: v.allowLoopback, allow: lines(v.allow), block: lines(v.block)});
    return "saved";
  }});
}

async function systemPrompt() {
  const doc = await get("/api/settings/system-prompt");
  return form({label: "System prompt", fields: [
    {name: "enabled", label: "Add a system prompt to every chat request", type: "checkbox", value: doc.enabled},
    {name: "mode", label: "Mode", type: "select", value: doc.mode, options: ["prepend", "append", "replace"]},
    {name: "prompt", label: "Prompt", type: "textarea", wide: true, value: doc.prompt, rows: 3}],
  onSubmit: async (v) => { await put("/api/settings/system-prompt", v); return "saved"; }});
}

async function thinking() {
  const doc = await get("/api/settings/thinking-budget");
  return form({label: "Thinking budget", fields: [
    {name: "mode", label: "Mode", type: "select", value: doc.mode, options: [["passthrough", "passthrough — as the client asks"],
      ["auto", "auto — the provider's default"], ["custom", "custom — this budget on every request"], ["adaptive", "adaptive — scaled to the request"]]},
    {name: "budgetTokens", label: "Budget (tokens)", type: "number", min: 0, max: 131072, value: doc.budgetTokens}],
  onSubmit: async (v) => { await put("/api/settings/thinking-budget", {mode: v.mode, budgetTokens: v.budgetTokens ?? 0}); return "saved"; }});
}

async function proxy() {
  const doc = await get("/api/settings/proxy");
  const overrides = {providers: doc.providers || {}, connections: doc.connections || {}};
  return h("div", {class: "stack"},
    form({label: "Upstream proxy", fields: [
      {name: "url", label: "Global proxy URL", value: doc.global?.url || "", placeholder: "http://user:pass@proxy:3128 or socks5://…"},
      {name: "noProxy", label: "No proxy for (one a line)", type: "textarea", value: (doc.noProxy || []).join("\n")},
      {name: "overrides", label: "Per provider / connection (JSON)", type: "textarea", wide: true, value: JSON.stringify(overrides, null, 1),
        help: "{\"providers\": {\"openai\": {\"url\": …}}, \"connections\": {…}}"}],
    onSubmit: async (v) => {
      let extra;
      try { extra = JSON.parse(v.overrides || "{}"); } catch { throw Object.assign(new Error("not valid JSON"), {param: "overrides"}); }
      await put("/api/settings/proxy", {global: v.url ? {url: v.url} : null, noProxy: lines(v.noProxy), ...extra});
      return "saved";
    }}),
    h("h3", {}, "Test a proxy"),
    form({label: "Test a proxy", submit: "Test", fields: [
      {name: "url", label: "Proxy URL", required: true, value: doc.global?.url || ""},
      {name: "target", label: "Target (optional)", placeholder: "https://api.openai.com/v1/models"}],
    onSubmit: async (v) => {
      const r = await post("/api/settings/proxy/test", {url: v.url, ...(v.target ? {target: v.target} : {})});
      if (!r.ok) throw new Error(`failed: ${r.error || "HTTP " + r.status}`);
      return `OK: HTTP ${r.status} in ${r.latencyMs} ms`;
    }}));
}

async function retention() {
  const doc = await get("/api/usage/retention");
  const fields = Object.entries(doc).map(([k, v]) => (typeof v === "boolean" ? {name: k, label: k, type: "checkbox", value: v}
    : typeof v === "number" ? {name: k, label: k, type: "number", min: 0, step: "any", value: v} : {name: k, label: k, value: v ?? ""}));
  return form({label: "Usage retention", fields, onSubmit: async (v) => {
    const changed = Object.fromEntries(Object.entries(v).filter(([k, val]) => val !== doc[k] && val !== null));
    if (!Object.keys(changed).length) return "nothing changed";
    Object.assign(doc, await put("/api/usage/retention", changed));
    return "saved";
  }});
}

async function lifecycle() {
  const init = await get("/api/init");
  return h("div", {class: "stack"}, kv([["Version", init.version], ["Password set", init.hasPassword ? "yes" : "no"],
    ["Providers", init.providers]]),
  h("div", {class: "actions"},
    action("Restart", async () => {
      if (!(await confirmDialog("Restart the gateway? Workers are replaced without dropping requests.", "Restart"))) return;
      const r = await post("/api/restart");
      return `restarting (grace ${r.graceSeconds} s)`;
    }),
    action("Shut down", async () => {
      if (!(await confirmDialog("Shut the gateway down? In-flight requests finish, then it exits; this dashboard stops answering.", "Shut down"))) return;
      await post("/api/shutdown");
      return "shutting down";
    }, {class: "danger"})));
}
