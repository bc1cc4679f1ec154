// Calls to /api/v1 with the stored token. A network failure is an Offline error; any other answer that is not
// 2xx is a Problem carrying the server's RFC 9457 body (its zh-CN detail and per-field errors).
import { get } from "./db.js";

export class Offline extends Error {}
export class Problem extends Error {
  constructor(status, body) {
    super(body?.detail || body?.title || `服务器返回 ${status}`);
    this.status = status;
    this.body = body || {};
  }
}

export async function call(method, path, body, extra = {}) {
  const token = await get("kv", "token");
  const headers = { ...(extra.headers || {}) };
  if (token) headers.Authorization = `Bearer ${token}`;
  let payload = body;
  if (body !== undefined && !(body instanceof Blob)) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(`/api/v1${path}`, { method, headers, body: payload, cache: "no-store" });
  } catch {
    throw new Offline("网络不可用");
  }
  if (method === "HEAD") return response.status;
  const type = response.headers.get("content-type") || "";
  const data = type.includes("json") ? await response.json() : null;
  if (!response.ok) throw new Problem(response.status, data);
  return { status: response.status, data };
}

// A photo's upload, with its progress (fetch cannot report an upload's progress; XMLHttpRequest can).
export async function upload(sha256, blob, onProgress) {
  const token = await get("kv", "token");
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", `/api/v1/attachments/${sha256}`);
    xhr.setRequestHeader("Authorization", `Bearer ${token}`);
    xhr.setRequestHeader("Content-Type", blob.type || "image/jpeg");
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress?.(e.loaded / e.total);
    xhr.onload = () => {
      let data = null;
      try { data = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
      if (xhr.status >= 200 && xhr.status < 300) resolve({ status: xhr.status, data });
      else reject(new Problem(xhr.status, data));
    };
    xhr.onerror = () => reject(new Offline("网络不可用"));
    xhr.send(blob);
  });
}
