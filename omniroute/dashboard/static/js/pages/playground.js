// Chat playground: a conversation through /v1/chat/completions (streamed or not), with who
// served each answer (X-OmniRoute-* headers), its latency and its usage.
import {del, get, optional, post} from "../api.js";
import {action, badge, confirmDialog, dialog, field, fill, fmt, form, h, head, panel, table} from "../ui.js";

export const title = "Playground";

export async function render(main) {
  const cat = await optional("/api/models/catalog");
  const models = (cat?.models || []).filter((m) => m.type === "chat" || m.type === "combo");
  const history = [];
  const log = h("div", {class: "chat-log", role: "log", "aria-live": "polite", "aria-label": "Conversation"});
  const status = h("p", {class: "error", role: "alert"});
  let controller = null;
  const modelField = field({name: "model", label: "Model", list: "playground-models", required: true,
    value: models[0]?.id || "", placeholder: "provider/model, alias or combo"});
  const settings = [
    modelField,
    field({name: "system", label: "System prompt (optional)"}),
    field({name: "temperature", label: "Temperature", type: "number", min: 0, max: 2, step: "0.1", placeholder: "default"}),
    field({name: "max_tokens", label: "Max tokens", type: "number", min: 1, placeholder: "default"}),
    field({name: "apiKey", label: "API key (when the gateway requires one)", type: "password", autocomplete: "off",
      value: sessionStorage.getItem("omniroute.playground.key") || ""}),
    field({name: "stream", label: "Stream the answer", type: "checkbox", value: true})];
  const message = field({name: "message", label: "Message", type: "textarea", wide: true, required: true,
    placeholder: "Ask something… (Ctrl+Enter sends)", rows: 3});
  const send = h("button", {type: "submit", class: "primary"}, "Send");
  const stop = h("button", {type: "button", disabled: true, onclick: () => controller?.abort()}, "Stop");
  const reset = h("button", {type: "button", onclick: () => { history.length = 0; log.replaceChildren(); }}, "Clear conversation");
  const chatForm = h("form", {class: "fields", "aria-label": "Chat"}, settings, message,
    h("div", {class: "form-actions wide"}, send, stop, reset, status));
  const evals = h("div");
  main.append(head(title, "Send a chat through the gateway as a client would; each answer says who served it."),
    h("datalist", {id: "playground-models"}, models.map((m) => h("option", {value: m.id}))),
    panel("Chat", chatForm, log), panel("Eval suites", evals));
  fill(evals, evalSuites);
  const textarea = chatForm.elements.namedItem("message");
  textarea.addEventListener("keydown", (e) => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) chatForm.requestSubmit(); });

  chatForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const f = chatForm.elements;
    const text = f.message.value.trim();
    if (!text) return;
    status.textContent = "";
    sessionStorage.setItem("omniroute.playground.key", f.apiKey.value);
    history.push({role: "user", content: text});
    log.append(bubble("user", text));
    f.message.value = "";
    const body = {model: f.model.value.trim(), messages: [...(f.system.value ? [{role: "system", content: f.system.value}] : []), ...history],
      stream: f.stream.checked};
    if (body.stream) body.stream_options = {include_usage: true};
    if (f.temperature.value !== "") body.temperature = Number(f.temperature.value);
    if (f.max_tokens.value !== "") body.max_tokens = Number(f.max_tokens.value);
    const out = bubble("assistant", "");
    log.append(out);
    controller = new AbortController();
    send.disabled = true;
    stop.disabled = false;
    try {
      const answer = await chat(body, f.apiKey.value, controller.signal, out);
      history.push({role: "assistant", content: answer});
    } catch (err) {
      history.pop();
      out.remove();
      status.textContent = err.name === "AbortError" ? "stopped" : err.message;
    } finally {
      send.disabled = false;
      stop.disabled = true;
      controller = null;
      textarea.focus();
    }
  });
  return () => controller?.abort();
}

function bubble(role, text) {
  return h("div", {class: `msg ${role}`}, h("span", {class: "who"}, role === "user" ? "You" : "Assistant"),
    h("span", {class: "text"}, text));
}

/** One request; fills `out` as the answer arrives and answers its text. */
async function chat(body, key, signal, out) {
  const started = performance.now();
  const headers = {"content-type": "application/json"};
  if (key) headers.authorization = `Bearer ${key}`;
  const res = await fetch("/v1/chat/completions", {method: "POST", headers, body: JSON.stringify(body), signal, credentials: "same-origin"});
  if (!res.ok) {
    let message = `HTTP ${res.status}`;
    try { message = (await res.json()).error.message || message; } catch { /* not JSON */ }
    throw new Error(`${res.status}: ${message}`);
  }
  const textEl = out.querySelector(".text");
  let text = "";
  let usage = null;
  let first = null;
  if (body.stream) {
    for await (const data of sse(res.body)) {
      if (data === "[DONE]") break;
      const chunk = JSON.parse(data);
      if (chunk.error) throw new Error(chunk.error.message || "the stream failed");
      first ??= performance.now();
      const delta = chunk.choices?.[0]?.delta?.content || "";
      text += delta;
      textEl.textContent = text;
      if (chunk.usage) usage = chunk.usage;
    }
  } else {
    const answer = await res.json();
    text = answer.choices?.[0]?.message?.content || "";
    usage = answer.usage;
    textEl.textContent = text;
  }
  out.append(meta(res.headers, performance.now() - started, first && first - started, usage));
  return text;
}

async function* sse(stream) {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const {value, done} = await reader.read();
    if (done) return;
    buffer += value;
    let cut;
    while ((cut = buffer.search(/\r?\n\r?\n/)) >= 0) {
      const event = buffer.slice(0, cut);
      buffer = buffer.slice(cut).replace(/^\r?\n\r?\n/, "");
      const data = event.split(/\r?\n/).filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trimStart()).join("\n");
      if (data) yield data;
    }
  }
}

function meta(headers, total, ttft, usage) {
  const served = headers.get("x-omniroute-model");
  const parts = [served && `served by ${served}`, headers.get("x-omniroute-connection") && `account ${headers.get("x-omniroute-connection")}`,
    headers.get("x-omniroute-attempts") && `${headers.get("x-omniroute-attempts")} attempt(s)`,
    `${fmt.ms(total)} total`, ttft && `${fmt.ms(ttft)} to first token`,
    usage && `${usage.prompt_tokens ?? "?"} in / ${usage.completion_tokens ?? "?"} out tokens`,
    headers.get("x-omniroute-cache") && `cache ${headers.get("x-omniroute-cache")}`];
  return h("div", {class: "meta"}, parts.filter(Boolean).join(" · "));
}

// -- eval suites: fixed prompts with expectations, run against a model through the gateway --
async function evalSuites() {
  const list = h("div");
  const again = () => fill(list, async () => table({rows: (await get("/api/evals")).suites, empty: "No suite yet.", columns: [
    {label: "Suite", value: (s) => s.name},
    {label: "Model", value: (s) => h("code", {}, s.model)},
    {label: "Cases", num: true, value: (s) => (Array.isArray(s.cases) ? s.cases.length : s.cases)},
    {label: "Last run", value: (s) => (s.lastRun ? badge(`${s.lastRun.passed}/${s.lastRun.total} passed`,
      s.lastRun.failed ? "bad" : "ok") : "never")},
    {label: "", value: (s) => h("div", {class: "actions"},
      action("Run", async () => {
        const r = await post(`/api/evals/${s.id}/run`);
        again();
        dialog(`${s.name}: ${r.passed}/${r.total} passed`, table({rows: r.cases, columns: [
          {label: "Input", value: (c) => c.input}, {label: "Output", value: (c) => c.output},
          {label: "Result", value: (c) => (c.passed ? badge("pass", "ok") : badge("fail", "bad"))},
          {label: "Why", value: (c) => c.reason}, {label: "Served by", value: (c) => c.servedBy}]}));
      }, {"aria-label": `Run ${s.name}`}),
      action("Delete", async () => {
        if (!(await confirmDialog(`Delete the suite ${s.name}?`, "Delete"))) return;
        await del(`/api/evals/${s.id}`);
        again();
        return `${s.name} deleted`;
      }, {class: "danger", "aria-label": `Delete ${s.name}`}))},
  ]}));
  await again();
  return h("div", {class: "stack"}, list, form({label: "Add an eval suite", submit: "Add suite", fields: [
    {name: "name", label: "Name", required: true},
    {name: "model", label: "Model", required: true, list: "playground-models"},
    {name: "cases", label: "Cases (JSON)", type: "textarea", wide: true, rows: 3,
      value: '[{"input": "Say hello", "expect": {"contains": "hello"}}]',
      help: "expect: contains, equals, regex or jsonSchema"}],
  onSubmit: async (v, f) => {
    let cases;
    try { cases = JSON.parse(v.cases); } catch { throw Object.assign(new Error("cases is not valid JSON"), {param: "cases"}); }
    await post("/api/evals", {name: v.name, model: v.model, cases});
    f.reset();
    again();
    return `suite ${v.name} added`;
  }}));
}
