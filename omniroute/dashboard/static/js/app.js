// The dashboard shell: hash routes (#/page?query) → page modules loaded on demand, the
// navigation's current page, the health line and logout.
//
// A page module exports `title` and `render(main, params)`; render may answer a function
// that is called when the user leaves the page (to stop timers).
import {api, get} from "./api.js";
import {clear, h, problem} from "./ui.js";

const PAGES = ["start", "providers", "keys", "combos", "playground", "usage", "latency", "logs", "audit", "cache",
  "resilience", "limits", "settings", "backups", "cli"];
const main = document.getElementById("main");
let leave = null;
let rendering = 0;

export function route() {
  const [path, query] = location.hash.replace(/^#\/?/, "").split("?");
  const name = PAGES.includes(path) ? path : "start";
  return {name, params: new URLSearchParams(query || "")};
}

/** Change the query of the current page without re-rendering it (filters, selected row). */
export function setParams(params) {
  const {name} = route();
  const q = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== "" && v !== null && v !== undefined));
  const hash = `#/${name}${q.toString() ? "?" + q : ""}`;
  history.replaceState(null, "", hash);
}

async function show() {
  const {name, params} = route();
  const turn = ++rendering;
  if (leave) { try { leave(); } catch { /* a page's cleanup must not block navigation */ } leave = null; }
  for (const a of document.querySelectorAll("nav a")) {
    if (a.getAttribute("href") === `#/${name}`) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  try {
    const page = await import(`./pages/${name}.js`);
    if (turn !== rendering) return;
    document.title = `${page.title} · OmniRoute`;
    clear(main);
    const out = await page.render(main, params);
    if (turn === rendering && typeof out === "function") leave = out;
    else if (typeof out === "function") out();
  } catch (err) {
    if (turn === rendering) clear(main, h("h1", {}, "Error"), problem(err));
  }
  if (turn === rendering && document.activeElement?.closest("nav")) main.focus({preventScroll: true});
}

// setParams uses replaceState, which fires no hashchange: only real navigation re-renders
window.addEventListener("hashchange", show);

async function health() {
  const el = document.getElementById("health");
  try {
    const data = await get("/api/monitoring/health");
    el.className = `health ${data.status === "ok" ? "ok" : "bad"}`;
    el.textContent = `v${data.version} · ${data.status} · up ${uptime(data.uptimeSeconds)}`;
  } catch (err) {
    el.className = "health bad";
    el.textContent = "gateway unreachable";
  }
}

function uptime(s) {
  if (s < 120) return `${Math.round(s)} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} d`;
}

document.getElementById("logout").addEventListener("submit", async (event) => {
  event.preventDefault();
  try { await api("POST", "/api/auth/logout", {}, {noLogin: true}); } finally { location.assign("/dashboard/login"); }
});

show();
health();
setInterval(health, 30000);
