// The field app's entry: the service worker, the routes (#/…) to the screens, and the background work (sync and
// the outbox) that runs whenever the network is there.
import { get } from "./db.js";
import { onChange, pendingCount, prune, send } from "./outbox.js";
import { syncNow } from "./sync.js";
import { toast } from "./ui.js";
import * as login from "./screens/login.js";
import * as households from "./screens/households.js";
import * as household from "./screens/household.js";
import * as register from "./screens/register.js";
import * as fill from "./screens/fill.js";
import * as outbox from "./screens/outbox.js";
import * as work from "./screens/work.js";
import * as me from "./screens/me.js";

const ROUTES = [
  [/^#\/households$/, households.show],
  [/^#\/household\/new$/, register.show],
  [/^#\/household\/([0-9a-f-]{36})$/, household.show],
  [/^#\/fill\/([0-9a-f-]{36})$/, fill.show],
  [/^#\/outbox$/, outbox.show],
  [/^#\/work$/, work.show],
  [/^#\/me$/, me.show],
];

async function route() {
  const user = await get("kv", "user");
  document.getElementById("tabs").hidden = !user;
  if (!user) return login.show();
  // Here the console will take supervisors, the bureau and admins (/console/) once it exists; every role that
  // fills forms uses this app meanwhile.
  const hash = location.hash || "#/households";
  for (const a of document.querySelectorAll("#tabs a")) a.classList.toggle("on", hash.startsWith(a.getAttribute("href")));
  for (const [pattern, screen] of ROUTES) {
    const m = pattern.exec(hash);
    if (m) return screen(...m.slice(1));
  }
  location.hash = "#/households";
}

async function badge() {
  const n = await pendingCount();
  document.getElementById("pending").textContent = n ? String(n) : "";
}

function network() {
  const el = document.getElementById("net");
  el.textContent = navigator.onLine ? "在线" : "离线";
  el.classList.toggle("off", !navigator.onLine);
}

export async function background() {
  if (!(await get("kv", "token"))) return;
  await send();
  try {
    // What changed is shown at once on the screens that only read; a form being filled is left alone.
    if ((await syncNow()) && /^(#\/households|#\/household\/|$)/.test(location.hash)) route();
  } catch (e) {
    if (e.status === 401) toast("登录已过期：请在“我的”中重新登录，未发送的内容会保留");
  }
}

window.addEventListener("hashchange", route);
window.addEventListener("online", () => { network(); background(); });
window.addEventListener("offline", network);
window.addEventListener("doorstep:login", () => { route(); background(); });
onChange(badge);
// The online event is not to be trusted (a phone on Wi-Fi without internet says online; some browsers never
// say it): while something waits, try again every few seconds; a try without network fails at once.
setInterval(async () => { if (await pendingCount()) send(); }, 5000);
document.addEventListener("visibilitychange", () => document.visibilityState === "visible" && background());

if ("serviceWorker" in navigator) navigator.serviceWorker.register("/app/sw.js", { scope: "/app/" });
network();
badge();
route();
prune().then(background);
