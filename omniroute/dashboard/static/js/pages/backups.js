// Backups: snapshots (make, restore), the .sqlite export and import, the full archive, cloud sync.
import {api, get, post, put} from "../api.js";
import {action, badge, confirmDialog, copyButton, dialog, field, fill, fmt, form, h, head, panel, table, toast} from "../ui.js";

export const title = "Backups";

export async function render(main) {
  const list = h("div");
  const refresh = () => fill(list, backups);
  const file = field({name: "file", label: "An .sqlite export", type: "file", accept: ".sqlite,.db,application/vnd.sqlite3"});
  const importButton = action("Import", async () => {
    const input = file.querySelector("input");
    if (!input.files.length) throw new Error("choose a file first");
    if (!(await confirmDialog("Replace this gateway's data with the file? A pre-restore backup is made first.", "Import"))) return;
    const r = await api("POST", "/api/db-backups/import", input.files[0]);
    refresh();
    return `imported ${Object.entries(r.imported).map(([t, n]) => `${n} ${t}`).join(", ")}`;
  }, {class: "primary"});
  main.append(head(title, "Snapshots of the store (connections, keys, combos, settings), restorable while the gateway serves.",
    action("Back up now", async () => {
      const r = await put("/api/db-backups");
      refresh();
      return `backup ${r.backup.id} made`;
    }, {class: "primary"})),
  panel("Backups", list),
  h("div", {class: "grid"},
    panel("Export and import", h("div", {class: "stack"},
      h("p", {}, h("a", {href: "/api/db-backups/export", download: ""}, "Download the store as .sqlite"),
        h("span", {class: "muted small"}, " (keys masked, client keys hashed)")),
      h("p", {}, h("a", {href: "/api/db-backups/exportAll", download: ""}, "Download everything as .tar.gz"),
        h("span", {class: "muted small"}, " (a backup, settings, providers without secrets)")),
      h("div", {class: "row"}, file, importButton))),
    panel("Cloud sync", sync())));
  await refresh();
}

async function backups(box) {
  const {backups: rows} = await get("/api/db-backups");
  return table({rows, empty: "No backup yet.", columns: [
    {label: "Id", value: (b) => h("code", {}, b.id)},
    {label: "Made", value: (b) => fmt.date(b.createdAt)},
    {label: "Kind", value: (b) => badge(b.kind)},
    {label: "Size", num: true, value: (b) => fmt.bytes(b.bytes)},
    {label: "", value: (b) => action("Restore", async () => {
      if (!(await confirmDialog(`Restore ${b.id}? Everything since is replaced (a pre-restore backup is made first).`, "Restore"))) return;
      const r = await post("/api/db-backups", {id: b.id});
      fill(box, backups);
      return `restored ${r.restored}`;
    }, {"aria-label": `Restore ${b.id}`})},
  ]});
}

function sync() {
  return h("div", {class: "stack"},
    h("p", {class: "muted small"}, "Copy the configuration between gateways: the peer needs a sync token made on it."),
    action("Make a sync token", async () => {
      if (!(await confirmDialog("Make a new sync token? The old one stops working.", "Make token"))) return;
      const r = await post("/api/sync/initialize");
      dialog("Sync token", h("p", {}, "Give it to the gateway that pushes or pulls; it is shown once."),
        h("div", {class: "snippet"}, h("pre", {}, h("code", {}, r.token)), copyButton(r.token)));
    }),
    form({label: "Sync with a peer", submit: "Sync", fields: [
      {name: "peerUrl", label: "Peer URL", type: "url", required: true, placeholder: "https://gateway-2:20128"},
      {name: "token", label: "Peer's sync token", type: "password", required: true, autocomplete: "off"},
      {name: "direction", label: "Direction", type: "select", options: [["pull", "pull from the peer"], ["push", "push to the peer"]]}],
    onSubmit: async (v) => {
      const r = await post("/api/sync/cloud", v);
      toast(`${r.direction}: ${r.changed ? "changed" : "nothing to change"}`);
      return r.changed ? `${r.direction} done` : "already in step";
    }}));
}
