// Calls to the public API with the console's token. Every answer that is not 2xx throws an ApiError carrying the
// server's RFC 9457 body; a 401 also tells the shell (event `doorstep:unauthorized`), which asks to log in again.
const KEY = "doorstep.console.token";

export const token = () => localStorage.getItem(KEY);
export const setToken = (value) => localStorage.setItem(KEY, value);

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || (status ? `服务器返回 ${status}` : "网络不可用，请检查网络后重试"));
    this.status = status;
    this.problem = problem || { errors: [] };
    if (!this.problem.errors) this.problem.errors = [];
  }
}

export async function apiRaw(path, { method = "GET", body, query, headers = {}, signal } = {}) {
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(query || {})) {
    if (v !== undefined && v !== null && v !== "") url.searchParams.set(k, v);
  }
  const sent = { ...headers };
  if (token()) sent.Authorization = `Bearer ${token()}`;
  let payload = body;
  if (body !== undefined && !(body instanceof Blob) && !(body instanceof FormData)) {
    sent["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  try {
    return await fetch(url, { method, headers: sent, body: payload, signal, cache: "no-store" });
  } catch (e) {
    if (e.name === "AbortError") throw e;
    throw new ApiError(0, null);
  }
}

export async function api(path, options = {}) {
  const response = await apiRaw(path, options);
  const type = response.headers.get("content-type") || "";
  const data = response.status === 204 || !type.includes("json") ? null : await response.json();
  if (response.status === 401 && token()) window.dispatchEvent(new Event("doorstep:unauthorized"));
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

// A file from the API (a ledger, an archive) saved under `filename`: the token cannot ride on a plain link.
export async function download(path, filename) {
  const response = await apiRaw(path);
  if (!response.ok) {
    const type = response.headers.get("content-type") || "";
    throw new ApiError(response.status, type.includes("json") ? await response.json() : null);
  }
  const url = URL.createObjectURL(await response.blob());
  const a = Object.assign(document.createElement("a"), { href: url, download: filename });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

// The token leaves this browser first, then the server revokes it: a page opened meanwhile starts logged out.
export async function logout() {
  const held = token();
  localStorage.removeItem(KEY);
  if (held) {
    try {
      await fetch(new URL("/api/v1/auth/logout", location.origin), { method: "POST", headers: { Authorization: `Bearer ${held}` } });
    } catch { /* the token expires by itself */ }
  }
}
