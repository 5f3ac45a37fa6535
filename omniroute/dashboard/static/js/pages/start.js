// Quick start: the base URL, what is set up, and copyable snippets for each SDK and CLI.
import {get, optional} from "../api.js";
import {cards, fill, h, head, panel, snippet, tabs} from "../ui.js";

export const title = "Quick start";

export function snippets(base, model, key) {
  const v1 = `${base}/v1`;
  return [
    {label: "curl", content: snippet(`curl ${v1}/chat/completions \\
  -H "Authorization: Bearer ${key}" -H "Content-Type: application/json" \\
  -d '{"model": "${model}", "messages": [{"role": "user", "content": "Hello"}]}'`)},
    {label: "OpenAI Python", content: snippet(`from openai import OpenAI

client = OpenAI(base_url="${v1}", api_key="${key}")
answer = client.chat.completions.create(
    model="${model}", messages=[{"role": "user", "content": "Hello"}])
print(answer.choices[0].message.content)`)},
    {label: "OpenAI JS", content: snippet(`import OpenAI from "openai";

const client = new OpenAI({baseURL: "${v1}", apiKey: "${key}"});
const answer = await client.chat.completions.create({
  model: "${model}", messages: [{role: "user", content: "Hello"}]});
console.log(answer.choices[0].message.content);`)},
    {label: "Anthropic", content: snippet(`from anthropic import Anthropic

client = Anthropic(base_url="${base}", api_key="${key}")
answer = client.messages.create(
    model="${model}", max_tokens=1024, messages=[{"role": "user", "content": "Hello"}])
print(answer.content[0].text)`)},
    {label: "Gemini", content: snippet(`from google import genai

client = genai.Client(api_key="${key}", http_options={"base_url": "${base}"})
answer = client.models.generate_content(model="${model}", contents="Hello")
print(answer.text)`)},
    {label: "Ollama", content: snippet(`from ollama import Client

client = Client(host="${base}", headers={"Authorization": "Bearer ${key}"})
answer = client.chat(model="${model}", messages=[{"role": "user", "content": "Hello"}])
print(answer.message.content)`)},
    {label: "Claude Code", content: snippet(`export ANTHROPIC_BASE_URL=${base}
export ANTHROPIC_API_KEY=${key}
export CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1   # optional
claude`)},
    {label: "Codex", content: h("div", {class: "stack"}, h("p", {}, "In ~/.codex/config.toml:"), snippet(`model = "${model}"
model_provider = "omni"

[model_providers.omni]
name = "OmniRoute"
base_url = "${v1}"
env_key = "OMNI_KEY"
wire_api = "responses"`), snippet(`export OMNI_KEY=${key}
codex`))},
    {label: "Gemini CLI", content: snippet(`export GOOGLE_GEMINI_BASE_URL=${base}
export GEMINI_API_KEY=${key}
gemini`)},
    {label: "aider", content: snippet(`export OPENAI_API_BASE=${v1}
export OPENAI_API_KEY=${key}
aider --model openai/${model}`)},
  ];
}

export async function render(main) {
  const base = location.origin;
  const status = h("div");
  const code = h("div");
  main.append(
    head(title, "Point every client at one base URL; the gateway picks a provider account and translates formats."),
    panel("Base URL", h("p", {}, "Clients use ", h("code", {}, base), " (OpenAI-style SDKs: ", h("code", {}, base + "/v1"), ")."),
      status),
    panel("Connect a client", h("p", {class: "muted"}, "Use a key from ", h("a", {href: "#/keys"}, "API keys"),
      " (any value works unless the gateway runs with REQUIRE_API_KEY). Model ids are provider/model, an alias or a combo."),
      code),
  );
  await Promise.all([
    fill(status, async () => {
      const [providers, keys, combos] = await Promise.all([get("/api/providers"), get("/api/keys"), optional("/api/combos")]);
      const steps = h("ol", {},
        h("li", {}, h("a", {href: "#/providers"}, "Add a provider"), ` — ${providers.connections.length} connected`),
        h("li", {}, h("a", {href: "#/keys"}, "Create an API key"), ` — ${keys.keys.filter((k) => !k.revoked).length} active`),
        h("li", {}, h("a", {href: "#/playground"}, "Try a chat in the playground")),
        h("li", {}, h("a", {href: "#/combos"}, "Build a combo"), " for fallback across providers",
          combos ? ` — ${combos.combos.length} defined` : ""));
      return [cards([["connections", providers.connections.length], ["API keys", keys.keys.length],
        ["combos", combos ? combos.combos.length : "—"]]), steps];
    }),
    fill(code, async () => {
      const catalog = await optional("/api/models/catalog");
      const chat = (catalog?.models || []).find((m) => m.type === "chat");
      return tabs(snippets(base, chat ? chat.id : "openai/gpt-4o-mini", "sk-omni-…"), "Client snippets");
    }),
  ]);
}
