// Providers and accounts: connections with their state (test, models, enable, delete), adding an
// API-key connection, subscription logins (OAuth), custom nodes, the model catalog and custom models.
import {del, get, optional, post, put} from "../api.js";
import {action, badge, clear, confirmDialog, dialog, fill, form, h, head, kv, panel, stateBadge, table, toast, values, field} from "../ui.js";

export const title = "Providers";

export async function render(main) {
  const conns = h("div");
  const add = h("div");
  const oauth = h("div");
  const nodes = h("div");
  const models = h("div");
  const refresh = () => Promise.all([fill(conns, connections), fill(models, catalog)]);
  main.append(
    head(title, "Provider accounts (connections) the gateway routes to, and the models they serve."),
    panel("Connections", conns),
    h("div", {class: "grid"}, panel("Add a connection", add), panel("Subscription accounts", oauth)),
    panel("Custom provider nodes", nodes),
    panel("Models", models),
  );
  const catalogOf = () => optional("/api/provider-catalog");
  const loadAdd = () => fill(add, async () => addForm(await catalogOf(), refresh));
  await Promise.all([
    refresh(),
    loadAdd(),
    fill(oauth, async () => oauthLogins(await catalogOf(), refresh)),
    fill(nodes, () => nodeList(() => Promise.all([refresh(), loadAdd()]))),
  ]);
}

async function connections(box) {
  const [{connections: list}, limits] = await Promise.all([get("/api/providers"), optional("/api/rate-limits")]);
  const states = Object.fromEntries((limits?.accounts || []).map((a) => [a.connectionId, a]));
  const again = () => fill(box, connections);
  return table({
    caption: `${list.length} connection${list.length === 1 ? "" : "s"}`,
    empty: "No connection yet: add one below.",
    rows: list,
    columns: [
      {label: "Name", value: (c) => h("span", {}, c.name, c.oauth ? [" ", badge(c.oauth)] : null)},
      {label: "Provider", value: (c) => h("code", {}, c.provider)},
      {label: "Key", value: (c) => c.apiKey && h("code", {}, c.apiKey)},
      {label: "Priority", num: true, value: (c) => c.priority},
      {label: "State", value: (c) => {
        const s = states[c.id];
        return s ? h("span", {title: s.reason || ""}, stateBadge(s.state), s.reason ? h("span", {class: "small muted"}, " " + s.reason) : null)
          : stateBadge(c.enabled ? "ok" : "disabled");
      }},
      {label: "Actions", value: (c) => h("div", {class: "actions"},
        action("Test", async () => {
          const r = await post(`/api/providers/${c.id}/test`);
          again();
          return r.ok ? `${c.name}: OK in ${r.latencyMs} ms` : Promise.reject(new Error(`${c.name}: ${r.error || r.status}`));
        }, {"aria-label": `Test ${c.name}`}),
        action("Models", () => showModels(c), {"aria-label": `Models of ${c.name}`}),
        action(c.enabled ? "Disable" : "Enable", async () => {
          await put(`/api/providers/${c.id}`, {enabled: !c.enabled});
          again();
          return `${c.name} ${c.enabled ? "disabled" : "enabled"}`;
        }, {"aria-label": `${c.enabled ? "Disable" : "Enable"} ${c.name}`}),
        action("Delete", async () => {
          if (!(await confirmDialog(`Delete the connection ${c.name}? Requests stop routing to it at once.`, "Delete"))) return;
          await del(`/api/providers/${c.id}`);
          again();
          return `${c.name} deleted`;
        }, {class: "danger", "aria-label": `Delete ${c.name}`}))},
    ],
  });
}

async function showModels(conn) {
  const body = h("div", {}, h("p", {class: "muted"}, "Asking the upstream…"));
  dialog(`Models of ${conn.name}`, body);
  try {
    const r = await get(`/api/providers/${conn.id}/models`);
    clear(body, h("p", {}, `${r.models.length} models from the upstream (use them as `, h("code", {}, `${conn.provider}/<model>`), ")"),
      h("ul", {class: "mono small"}, r.models.slice(0, 500).map((m) => h("li", {}, m))));
  } catch (err) {
    clear(body, h("p", {class: "error"}, err.message));
  }
}

function addForm(provs, refresh) {
  const rows = (provs?.providers || []).filter((p) => !p.oauth);
  const byId = Object.fromEntries(rows.map((p) => [p.id, p]));
  const providerField = rows.length
    ? {name: "provider", label: "Provider", type: "select", required: true,
      options: [["", "Choose…"], ...rows.map((p) => [p.id, `${p.name} (${p.id})`])]}
    : {name: "provider", label: "Provider id", required: true, help: "a row id (openai, anthropic, …) or a node id"};
  const fields = [providerField,
    {name: "name", label: "Name", placeholder: "main"},
    {name: "apiKey", label: "API key", type: "password", autocomplete: "off"},
    {name: "baseUrl", label: "Base URL (optional)", type: "url", placeholder: "the provider's default"},
    {name: "priority", label: "Priority", type: "number", value: 0, min: 0, help: "lower is tried first"},
    {name: "rpm", label: "Requests / minute", type: "number", min: 0, placeholder: "0 = no limit"},
    {name: "tpm", label: "Tokens / minute", type: "number", min: 0, placeholder: "0 = no limit"},
    {name: "models", label: "Extra models", placeholder: "comma separated", help: "ids this account serves besides the row's"},
    {name: "passthroughModels", label: "Send unknown bare model ids here", type: "checkbox"}];
  const body = (v) => {
    const out = {provider: v.provider, name: v.name || undefined, apiKey: v.apiKey || undefined,
      baseUrl: v.baseUrl || undefined, priority: v.priority ?? 0, passthroughModels: v.passthroughModels};
    if (v.rpm) out.rpm = v.rpm;
    if (v.tpm) out.tpm = v.tpm;
    if (v.models.trim()) out.models = v.models.split(",").map((m) => m.trim()).filter(Boolean);
    const extra = Object.entries(v).filter(([k, val]) => k.startsWith("field.") && val);
    if (extra.length) out.fields = Object.fromEntries(extra.map(([k, val]) => [k.slice(6), val]));
    return out;
  };
  let el;
  const validate = action("Validate", async () => {
    const r = await post("/api/providers/validate", body(values(el)));
    if (!r.valid) throw new Error(`not valid: ${r.error || "HTTP " + r.status}`);
    return `valid: the upstream answered in ${r.latencyMs} ms`;
  });
  el = form({label: "Add a connection", submit: "Add connection", extra: validate, fields, onSubmit: async (v, f) => {
    const conn = await post("/api/providers", body(v));
    f.reset();
    describe();
    refresh();
    return `added ${conn.name} (${conn.id})`;
  }});
  // what the chosen row is, and the fields its base URL needs (Cloudflare's accountId, …)
  const about = h("div", {class: "wide small muted", "aria-live": "polite"});
  const extras = h("div", {class: "wide fields"});
  el.querySelector(".form-actions").before(about, extras);
  const describe = () => {
    const p = byId[el.elements.namedItem("provider").value];
    clear(about, p ? `${p.name}: ${p.capabilities.join(", ")} · ${p.format} · ${p.baseUrl}${p.needsKey ? "" : " · key optional"}` : "");
    clear(extras, (p?.fields || []).map((name) => field({name: `field.${name}`, label: name, required: true})));
    el.elements.namedItem("baseUrl").placeholder = p ? p.baseUrl : "the provider's default";
  };
  el.elements.namedItem("provider").addEventListener("change", describe);
  return el;
}

function oauthLogins(provs, refresh) {
  const rows = (provs?.providers || []).filter((p) => p.oauth);
  if (!provs) return h("p", {class: "muted"}, "Subscription logins use /api/oauth/{provider}/…; this gateway lists no provider catalog.");
  if (!rows.length) return h("p", {class: "muted"}, "No subscription provider on this gateway.");
  return h("div", {class: "stack"}, h("p", {class: "muted small"},
    "Log a subscription (Claude, ChatGPT/Codex, Gemini CLI, GitHub Copilot) in once; it then serves requests like an API key."),
    table({rows, columns: [
      {label: "Subscription", value: (p) => p.name},
      {label: "Accounts", num: true, value: (p) => p.connections},
      {label: "", value: (p) => action("Connect", () => (p.oauth === "github" ? deviceLogin(p, refresh) : codeLogin(p, refresh)),
        {"aria-label": `Connect a ${p.name} account`})},
    ]}));
}

async function codeLogin(p, refresh) {
  const start = await get(`/api/oauth/${p.oauth}/authorize`);
  const d = dialog(`Connect ${p.name}`,
    h("ol", {},
      h("li", {}, h("a", {href: start.authUrl, target: "_blank", rel: "noopener"}, "Open the provider's login page"), " and approve."),
      h("li", {}, "Paste the code it shows, or the whole address it sent you to:")),
    form({label: "Finish the login", submit: "Connect", fields: [
      {name: "code", label: "Code or callback URL", required: true, wide: true},
      {name: "name", label: "Name (optional)"}],
    onSubmit: async (v) => {
      const conn = await post(`/api/oauth/${p.oauth}/exchange`, {code: v.code.trim(), state: start.state, name: v.name || undefined});
      d.close();
      refresh();
      toast(`connected ${conn.name}`);
    }}));
}

async function deviceLogin(p, refresh) {
  const start = await post(`/api/oauth/${p.oauth}/device`);
  const status = h("p", {role: "status"}, "Waiting for approval…");
  const d = dialog(`Connect ${p.name}`, kv([["Code", h("code", {}, start.userCode)],
    ["Where", h("a", {href: start.verificationUri, target: "_blank", rel: "noopener"}, start.verificationUri)]]), status);
  let timer = null;
  const poll = async () => {
    if (!d.open) return;
    try {
      const r = await post(`/api/oauth/${p.oauth}/poll`, {deviceCode: start.deviceCode});
      if (r.status === "complete") { status.textContent = `Connected ${r.connection?.name || ""}.`; refresh(); return; }
      if (r.status !== "pending") { status.textContent = `Login ${r.status}.`; return; }
    } catch (err) { status.textContent = err.message; return; }
    timer = setTimeout(poll, (start.interval || 5) * 1000);
  };
  d.addEventListener("close", () => clearTimeout(timer));
  timer = setTimeout(poll, (start.interval || 5) * 1000);
}

async function nodeList(refresh) {
  const list = h("div");
  const again = () => fill(list, async () => {
    const {nodes} = await get("/api/provider-nodes");
    return table({rows: nodes, empty: "No custom node.", columns: [
      {label: "Prefix", value: (n) => h("code", {}, n.prefix)},
      {label: "Name", value: (n) => n.name},
      {label: "Type", value: (n) => `${n.type} · ${n.apiType}`},
      {label: "Base URL", value: (n) => h("code", {}, n.baseUrl)},
      {label: "Id", value: (n) => h("code", {}, n.id)},
      {label: "", value: (n) => action("Delete", async () => {
        if (!(await confirmDialog(`Delete the node ${n.prefix}?`, "Delete"))) return;
        await del(`/api/provider-nodes/${n.id}`);
        again();
        return `node ${n.prefix} deleted`;
      }, {class: "danger", "aria-label": `Delete node ${n.prefix}`})},
    ]});
  });
  await again();
  return h("div", {class: "stack"},
    h("p", {class: "muted small"}, "A self-hosted OpenAI- or Anthropic-compatible server (vLLM, llama.cpp, LM Studio) under a prefix of its own; add a connection for it above."),
    list,
    form({label: "Add a node", submit: "Add node", fields: [
      {name: "prefix", label: "Prefix", required: true, placeholder: "myvllm"},
      {name: "baseUrl", label: "Base URL", type: "url", required: true, placeholder: "http://gpu-box:8000/v1"},
      {name: "name", label: "Name"},
      {name: "kind", label: "Speaks", type: "select", options: [["openai-compatible/chat", "OpenAI Chat"],
        ["openai-compatible/responses", "OpenAI Responses"], ["anthropic-compatible/messages", "Anthropic Messages"]]}],
    onSubmit: async (v, f) => {
      const [type, apiType] = v.kind.split("/");
      const r = await post("/api/provider-nodes", {prefix: v.prefix, baseUrl: v.baseUrl, name: v.name || undefined, type, apiType});
      f.reset();
      again();
      refresh();
      return `node ${r.node.prefix} added (${r.node.id})`;
    }}));
}

async function catalog() {
  const cat = await get("/api/models/catalog");
  const list = cat.models.filter((m) => m.type !== "combo");
  const custom = h("div");
  const again = () => fill(custom, async () => {
    const {models} = await get("/api/provider-models");
    return table({rows: models, empty: "None: add a model the provider serves but the gateway does not list.", columns: [
      {label: "Provider", value: (m) => m.provider}, {label: "Model", value: (m) => h("code", {}, m.model)}, {label: "Type", value: (m) => m.type},
      {label: "", value: (m) => action("Remove", async () => {
        await del(`/api/provider-models?provider=${encodeURIComponent(m.provider)}&model=${encodeURIComponent(m.model)}`);
        again();
        return `removed ${m.model}`;
      }, {class: "danger", "aria-label": `Remove ${m.provider}/${m.model}`})}]});
  });
  await again();
  return h("div", {class: "stack"},
    table({caption: `${list.length} models of the connected providers`, empty: "No listed model: connect a provider, or add custom models.", rows: list,
      columns: [{label: "Model id", value: (m) => h("code", {}, m.id)}, {label: "Provider", value: (m) => m.provider},
        {label: "Type", value: (m) => m.type}, {label: "Context", num: true, value: (m) => m.contextWindow}]}),
    h("h3", {}, "Custom models"), custom,
    form({label: "Add a custom model", submit: "Add model", fields: [
      {name: "provider", label: "Provider id", required: true},
      {name: "model", label: "Model", required: true},
      {name: "type", label: "Type", type: "select", options: ["chat", "embedding", "image", "audio"]}],
    onSubmit: async (v, f) => {
      await post("/api/provider-models", v);
      f.reset();
      again();
      return `added ${v.provider}/${v.model}`;
    }}));
}
