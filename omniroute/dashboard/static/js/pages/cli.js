// CLI tools: whether each coding CLI is installed on the gateway's machine, its settings as they
// are and as they would point at this gateway, and writing them.
import {get, post} from "../api.js";
import {badge, fill, form, h, head, kv, panel} from "../ui.js";

export const title = "CLI tools";
export const TOOLS = [["claude", "Claude Code"], ["codex", "Codex"], ["droid", "Factory Droid"], ["openclaw", "OpenClaw"]];

export async function render(main) {
  const boxes = TOOLS.map(([id, name]) => ({id, name, box: h("div")}));
  main.append(head(title, "Point the coding CLIs installed on the gateway's machine at it. Their settings files are backed up before a write."),
    h("div", {class: "grid"}, boxes.map((t) => panel(t.name, t.box))));
  await Promise.all(boxes.map((t) => fill(t.box, () => tool(t.id, t.box))));
}

const json = (v) => h("pre", {class: "small"}, h("code", {}, JSON.stringify(v ?? null, null, 2)));

async function tool(id, box) {
  const [runtime, settings] = await Promise.all([get(`/api/cli-tools/runtime/${id}`), get(`/api/cli-tools/${id}-settings`)]);
  return h("div", {class: "stack"},
    kv([["Command", runtime.installed ? badge(runtime.runnable ? "runnable" : "installed", runtime.runnable ? "ok" : "warn") : badge("not found")],
      ["Path", runtime.commandPath], ["Version", runtime.version], ["Runs as", runtime.runtimeMode], runtime.reason && ["Note", runtime.reason],
      ["Settings file", h("code", {}, settings.configPath)]]),
    h("details", {}, h("summary", {}, "Current settings"), json(settings.current)),
    h("details", {}, h("summary", {}, "Pointed at this gateway"), json(settings.suggested)),
    form({label: `Write the ${id} settings`, submit: "Write settings", fields: [
      {name: "baseUrl", label: "Gateway URL", type: "url", value: location.origin},
      {name: "apiKey", label: "API key", type: "password", autocomplete: "off", placeholder: "a key from API keys"},
      {name: "model", label: "Model (optional)", placeholder: "the tool's default"}],
    onSubmit: async (v) => {
      const body = Object.fromEntries(Object.entries(v).filter(([, val]) => val));
      const r = await post(`/api/cli-tools/${id}-settings`, body);
      fill(box, () => tool(id, box));
      return `written to ${r.configPath}${r.backupPath ? ` (backup ${r.backupPath})` : ""}`;
    }}));
}
