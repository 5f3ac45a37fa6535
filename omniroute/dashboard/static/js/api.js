// The management API from the browser: JSON in and out, the session cookie, errors as ApiError.
//
// A 401 sends the browser to the login page (the fragment comes back after login). An
// endpoint this gateway does not have (404 `unknown_endpoint`, or 405 on a known path) is an
// ApiError with `missing` set: pages say "this gateway has no … API" instead of failing.

export class ApiError extends Error {
  constructor(status, body, path, method) {
    const err = (body && body.error) || {};
    super(err.message || (typeof body === "string" && body) || `${method} ${path}: HTTP ${status}`);
    this.status = status;
    this.param = err.param || null;
    this.code = err.code || null;
    this.path = path;
    this.method = method;
    this.missing = (status === 404 && err.code === "unknown_endpoint") || status === 405;
  }
}

export function toLogin() {
  location.assign("/dashboard/login" + location.hash);
}

export async function api(method, path, body, options = {}) {
  const init = {method, credentials: "same-origin", headers: {accept: "application/json"}};
  if (body instanceof Blob || body instanceof ArrayBuffer) {
    init.body = body;
    init.headers["content-type"] = "application/octet-stream";
  } else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["content-type"] = "application/json";
  }
  const res = await fetch(path, init);
  if (res.status === 401 && !options.noLogin) toLogin();
  const text = await res.text();
  let data = text;
  try { data = text ? JSON.parse(text) : null; } catch { /* not JSON: keep the text */ }
  if (!res.ok) throw new ApiError(res.status, data, path, method);
  return data;
}

export const get = (path) => api("GET", path);
export const post = (path, body = {}) => api("POST", path, body);
export const put = (path, body = {}) => api("PUT", path, body);
export const del = (path, body) => api("DELETE", path, body);

/** `path` with the query parameters that have a value. */
export function withQuery(path, params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") q.set(k, v);
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

/** GET that answers null (instead of throwing) when the gateway has no such endpoint. */
export async function optional(path) {
  try {
    return await get(path);
  } catch (err) {
    if (err instanceof ApiError && err.missing) return null;
    throw err;
  }
}
