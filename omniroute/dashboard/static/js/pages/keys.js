// API keys: create (the full key is shown once), limits, revoke, delete.
import {del, get, post, put} from "../api.js";
import {action, badge, confirmDialog, copyButton, dialog, fill, fmt, form, h, head, panel, table} from "../ui.js";

export const title = "API keys";

export async function render(main) {
  const list = h("div");
  const refresh = () => fill(list, keys);
  main.append(
    head(title, "Keys clients send as Authorization: Bearer (or x-api-key). The gateway stores only their hash."),
    panel("Create a key", form({label: "Create a key", submit: "Create key", fields: [
      {name: "name", label: "Name", required: true, placeholder: "ci"},
      {name: "rpm", label: "Requests / minute", type: "number", min: 0, placeholder: "0 = no limit"},
      {name: "tpm", label: "Tokens / minute", type: "number", min: 0, placeholder: "0 = no limit"}],
    onSubmit: async (v, f) => {
      const key = await post("/api/keys", {name: v.name, rpm: v.rpm || 0, tpm: v.tpm || 0});
      f.reset();
      showOnce(key);
      refresh();
      return `created ${key.name}`;
    }})),
    panel("Keys", list),
  );
  await refresh();
}

function showOnce(key) {
  dialog(`Key ${key.name} created`,
    h("p", {}, "Copy it now: the gateway keeps only its hash and will not show it again."),
    h("div", {class: "snippet"}, h("pre", {}, h("code", {id: "new-key"}, key.key)), copyButton(key.key)));
}

async function keys(box) {
  const {keys: rows} = await get("/api/keys");
  const again = () => fill(box, keys);
  return table({rows, empty: "No key yet.", columns: [
    {label: "Name", value: (k) => k.name},
    {label: "Key", value: (k) => h("code", {}, k.key)},
    {label: "Id", value: (k) => h("code", {class: "small"}, k.id)},
    {label: "Limits", value: (k) => limits(k, again)},
    {label: "Created", value: (k) => fmt.date(k.createdAt)},
    {label: "State", value: (k) => (k.revoked ? badge("revoked", "bad") : badge("active", "ok"))},
    {label: "Actions", value: (k) => h("div", {class: "actions"},
      !k.revoked && action("Revoke", async () => {
        if (!(await confirmDialog(`Revoke ${k.name}? Clients using it get 401 at once.`, "Revoke"))) return;
        await post(`/api/keys/${k.id}/revoke`);
        again();
        return `${k.name} revoked`;
      }, {class: "danger", "aria-label": `Revoke ${k.name}`}),
      action("Delete", async () => {
        if (!(await confirmDialog(`Delete ${k.name} and its record?`, "Delete"))) return;
        await del(`/api/keys/${k.id}`);
        again();
        return `${k.name} deleted`;
      }, {class: "danger", "aria-label": `Delete ${k.name}`}))},
  ]});
}

function limits(k, again) {
  const text = `${k.rpm ? fmt.int(k.rpm) + " rpm" : "no rpm limit"} · ${k.tpm ? fmt.int(k.tpm) + " tpm" : "no tpm limit"}`;
  return h("span", {}, text, " ", action("Edit", () => {
    const d = dialog(`Limits of ${k.name}`, form({label: "Key limits", fields: [
      {name: "rpm", label: "Requests / minute", type: "number", min: 0, value: k.rpm},
      {name: "tpm", label: "Tokens / minute", type: "number", min: 0, value: k.tpm}],
    onSubmit: async (v) => {
      await put(`/api/keys/${k.id}`, {rpm: v.rpm || 0, tpm: v.tpm || 0});
      d.close();
      again();
    }}));
  }, {class: "link", "aria-label": `Edit limits of ${k.name}`}));
}
