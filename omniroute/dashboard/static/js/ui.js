// DOM building blocks shared by the pages: elements, panels, tables, forms, dialogs, toasts,
// formatting. Text always goes in as text nodes (never as HTML), so API data cannot inject markup.
import {ApiError} from "./api.js";

let uid = 0;
export const nextId = (prefix = "f") => `${prefix}-${++uid}`;

/** h("button", {class: "primary", onclick: fn}, "Save") — props may be left out. */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  if (props && (typeof props !== "object" || props instanceof Node || Array.isArray(props))) {
    children.unshift(props);
    props = null;
  }
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else if (key === "text") el.textContent = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key in el && typeof value !== "string") el[key] = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of [children].flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

export function clear(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

/** The page's heading and intro. */
export function head(title, intro, ...extra) {
  return h("div", {class: "page-head"}, h("h1", {id: "page-title"}, title), intro && h("p", {class: "muted"}, intro), extra);
}

/** A titled panel; `body` children, or an async loader filled in when it resolves. */
export function panel(title, ...children) {
  const id = nextId("p");
  return h("section", {class: "panel", "aria-labelledby": id}, h("h2", {id}, title), children);
}

/** Run `fn(box)` into `box`, showing "Loading…" first and a notice when it fails. */
export async function fill(box, fn) {
  clear(box, h("p", {class: "muted"}, "Loading…"));
  try {
    const out = await fn(box);
    if (out !== undefined) clear(box, out);
  } catch (err) {
    clear(box, problem(err));
  }
}

export function problem(err) {
  if (err instanceof ApiError && err.missing) {
    return h("p", {class: "notice missing"},
      `This gateway has no ${err.method} ${err.path.split("?")[0]} API yet: this part of the page needs it.`);
  }
  return h("p", {class: "notice", role: "alert"}, err.message || String(err));
}

export function badge(text, kind = "") {
  return h("span", {class: `badge ${kind}`}, text);
}

const STATE_KINDS = {ok: "ok", closed: "ok", healthy: "ok", true: "ok", cooling: "warn", limited: "warn",
  half_open: "warn", disabled: "", expired: "bad", auth_failed: "bad", circuit_open: "bad", open: "bad", false: "bad"};
export const stateBadge = (state) => badge(String(state).replace("_", " "), STATE_KINDS[state] ?? "");

/** columns: [{label, value: row => text|Node, num}]; onRow(row, tr) makes rows activatable. */
export function table({caption, columns, rows, empty = "Nothing yet.", onRow, rowLabel}) {
  if (!rows.length) return h("p", {class: "empty"}, empty);
  const body = rows.map((row) => {
    const tr = h("tr", {}, columns.map((c) => h("td", {class: c.num ? "num" : null}, cell(c.value(row)))));
    if (onRow) {
      tr.className = "clickable";
      tr.tabIndex = 0;
      if (rowLabel) tr.setAttribute("aria-label", rowLabel(row));
      const go = () => onRow(row, tr);
      tr.addEventListener("click", (e) => { if (!e.target.closest("button, a, input, select")) go(); });
      tr.addEventListener("keydown", (e) => { if (e.target === tr && (e.key === "Enter" || e.key === " ")) { e.preventDefault(); go(); } });
    }
    return tr;
  });
  return h("div", {class: "table-wrap"}, h("table", {},
    caption && h("caption", {}, caption),
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", {scope: "col", class: c.num ? "num" : null}, c.label)))),
    h("tbody", {}, body)));
}

function cell(value) {
  return value === null || value === undefined || value === "" ? "—" : value;
}

/** One labelled input. def: {name, label, type, options, value, help, required, placeholder, wide, ...attrs} */
export function field(def) {
  const id = nextId(def.name.replace(/\W/g, "-"));
  const {name, label, type = "text", options, value, help, wide, ...attrs} = def;
  let input;
  if (type === "select") {
    input = h("select", {id, name, ...attrs}, (options || []).map((o) => {
      const [v, text] = Array.isArray(o) ? o : [o, o];
      return h("option", {value: v, selected: String(v) === String(value ?? "")}, text);
    }));
  } else if (type === "textarea") {
    input = h("textarea", {id, name, ...attrs});
    input.value = value ?? "";
  } else if (type === "checkbox") {
    input = h("input", {id, name, type, checked: !!value, ...attrs});
  } else {
    input = h("input", {id, name, type, ...attrs});
    if (value !== undefined && value !== null) input.value = value;
  }
  const helpEl = help && h("span", {class: "help", id: id + "-help"}, help);
  if (helpEl) input.setAttribute("aria-describedby", helpEl.id);
  if (type === "checkbox") {
    return h("div", {class: `field check${wide ? " wide" : ""}`}, input, h("label", {for: id}, label), helpEl);
  }
  return h("div", {class: `field${wide ? " wide" : ""}`}, h("label", {for: id}, label), input, helpEl);
}

/** Values of a form's named inputs: numbers for type=number, booleans for checkboxes. */
export function values(formEl) {
  const out = {};
  for (const el of formEl.elements) {
    if (!el.name) continue;
    if (el.type === "checkbox") out[el.name] = el.checked;
    else if (el.type === "number") out[el.name] = el.value === "" ? null : Number(el.value);
    else out[el.name] = el.value;
  }
  return out;
}

/** A form of fields whose submit runs `onSubmit(values, form)`; API errors show beside it and
 *  mark the field the error names (`param`). */
export function form({fields, submit = "Save", onSubmit, extra, label}) {
  const status = h("p", {class: "error", role: "alert"});
  const button = h("button", {type: "submit", class: "primary"}, submit);
  const el = h("form", {class: "fields", "aria-label": label || null}, fields.map(field),
    h("div", {class: "form-actions wide"}, button, extra, status));
  el.addEventListener("submit", async (event) => {
    event.preventDefault();
    status.textContent = "";
    status.className = "error";
    for (const bad of el.querySelectorAll("[aria-invalid]")) bad.removeAttribute("aria-invalid");
    button.disabled = true;
    try {
      const message = await onSubmit(values(el), el);
      if (message) { status.className = "success"; status.textContent = message; }
    } catch (err) {
      status.textContent = err.message || String(err);
      const target = err.param && findField(el, err.param);
      if (target) { target.setAttribute("aria-invalid", "true"); target.focus(); }
    } finally {
      button.disabled = false;
    }
  });
  return el;
}

function findField(formEl, param) {
  const names = [param, param.split(".").pop(), param.replace(/\[\d+\].*/, "")];
  for (const n of names) {
    const el = formEl.elements.namedItem(n);
    if (el && el.focus) return el;
  }
  return null;
}

export function toast(message, bad = false) {
  const el = h("div", {class: `toast${bad ? " bad" : ""}`}, message);
  document.getElementById("toasts").append(el);
  setTimeout(() => el.remove(), bad ? 8000 : 4000);
}

/** A modal dialog with a title and content; answers the dialog element (closed on "Close"). */
export function dialog(title, ...content) {
  const id = nextId("d");
  const el = h("dialog", {"aria-labelledby": id}, h("h2", {id}, title), content,
    h("div", {class: "form-actions"}, h("button", {type: "button", class: "close", onclick: () => el.close()}, "Close")));
  el.addEventListener("close", () => el.remove());
  document.body.append(el);
  el.showModal();
  return el;
}

export function confirmDialog(message, yes = "Confirm") {
  return new Promise((resolve) => {
    const id = nextId("d");
    let answer = false;
    const el = h("dialog", {"aria-labelledby": id, role: "alertdialog"}, h("p", {id}, message),
      h("div", {class: "form-actions"},
        h("button", {type: "button", class: "primary", onclick: () => { answer = true; el.close(); }}, yes),
        h("button", {type: "button", onclick: () => el.close()}, "Cancel")));
    el.addEventListener("close", () => { el.remove(); resolve(answer); });
    document.body.append(el);
    el.showModal();
  });
}

/** A button that runs `fn` with itself disabled, toasting its message or error. */
export function action(label, fn, props = {}) {
  const button = h("button", {type: "button", ...props}, label);
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      const message = await fn();
      if (message) toast(message);
    } catch (err) {
      toast(err.message || String(err), true);
    } finally {
      button.disabled = false;
    }
  });
  return button;
}

export function copyButton(text, label = "Copy") {
  return action(label, async () => {
    await copyText(typeof text === "function" ? text() : text);
    return "Copied to the clipboard";
  }, {class: "copy", "aria-label": label === "Copy" ? "Copy to the clipboard" : label});
}

async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {  // no clipboard permission (plain http on another host): the old way
    const area = h("textarea", {class: "skip"});
    area.value = text;
    document.body.append(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }
}

export function snippet(code) {
  return h("div", {class: "snippet"}, h("pre", {}, h("code", {}, code)), copyButton(code));
}

/** Accessible tabs: [{label, content: Node}] (arrow keys move between tabs). */
export function tabs(items, label) {
  const list = h("div", {role: "tablist", "aria-label": label});
  const panels = [];
  const buttons = items.map((item, i) => {
    const tabId = nextId("tab");
    const panelId = nextId("tabpanel");
    const b = h("button", {type: "button", role: "tab", id: tabId, "aria-controls": panelId,
      "aria-selected": i === 0 ? "true" : "false", tabindex: i === 0 ? "0" : "-1"}, item.label);
    panels.push(h("div", {role: "tabpanel", id: panelId, "aria-labelledby": tabId, hidden: i !== 0}, item.content));
    return b;
  });
  const select = (i) => buttons.forEach((b, j) => {
    b.setAttribute("aria-selected", i === j ? "true" : "false");
    b.tabIndex = i === j ? 0 : -1;
    panels[j].hidden = i !== j;
    if (i === j) b.focus();
  });
  buttons.forEach((b, i) => {
    b.addEventListener("click", () => select(i));
    b.addEventListener("keydown", (e) => {
      const step = {ArrowRight: 1, ArrowLeft: -1}[e.key];
      if (step) select((i + step + buttons.length) % buttons.length);
    });
  });
  append(list, buttons);
  return h("div", {class: "tabs"}, list, panels);
}

export function kv(pairs) {
  return h("dl", {class: "kv"}, pairs.filter(Boolean).map(([k, v]) => [h("dt", {}, k), h("dd", {}, cell(v))]));
}

export function cards(items) {
  return h("div", {class: "cards"}, items.map(([label, value]) =>
    h("div", {class: "card"}, h("div", {class: "value"}, cell(value)), h("div", {class: "label"}, label))));
}

// -- formatting ------------------------------------------------------------------------------
const nf = new Intl.NumberFormat();
export const fmt = {
  int: (v) => (v === null || v === undefined ? "—" : nf.format(Math.round(v))),
  num: (v, digits = 2) => (v === null || v === undefined ? "—" : Number(v).toFixed(digits)),
  ms: (v) => (v === null || v === undefined || Number.isNaN(v) ? "—" : `${Number(v).toFixed(v < 10 ? 2 : 0)} ms`),
  usd: (v) => (v === null || v === undefined ? "—" : `$${Number(v).toFixed(v && Math.abs(v) < 0.01 ? 6 : 2)}`),
  pct: (v) => (v === null || v === undefined ? "—" : `${(Number(v) * 100).toFixed(1)} %`),
  bytes: (v) => {
    if (v === null || v === undefined) return "—";
    const units = ["B", "KB", "MB", "GB", "TB"];
    let i = 0;
    while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
    return `${v.toFixed(i ? 1 : 0)} ${units[i]}`;
  },
  /** an ISO string or epoch seconds, in local time */
  date: (v) => {
    if (v === null || v === undefined || v === "") return "—";
    const d = typeof v === "number" ? new Date(v * 1000) : new Date(v);
    return Number.isNaN(d.getTime()) ? String(v) : d.toLocaleString();
  },
};

/** epoch seconds of an ISO string or a number */
export const seconds = (v) => (typeof v === "number" ? v : Date.parse(v) / 1000);
