// The field app's entry: the service worker, the routes (#/…) to the screens, and the background work (sync and
// the outbox) that runs whenever the network is there.
import { get } from "./db.js";
import { keepDueFiles } from "./files.js";
import { onChange, pendingCount, prune, send } from "./outbox.js";
import { syncNow } from "./sync.js";
import { toast } from "./ui.js";
import * as login from "./screens/login.js";
import * as households from "./screens/households.js";
import * as household from "./screens/household.js";
import * as register from "./screens/register.js";
import * as correct from "./screens/correct.js";
import * as fill from "./screens/fill.js";
import * as outbox from "./screens/outbox.js";
import * as work from "./screens/work.js";
import * as me from "./screens/me.js";
import * as jobs from "./screens/jobs.js";

const ROUTES = [
  [/^#\/households$/, households.show],
  [/^#\/household\/new$/, register.show],
  [/^#\/household\/([0-9a-f-]{36})$/, household.show],
  [/^#\/household\/([0-9a-f-]{36})\/members$/, correct.show],
  [/^#\/fill\/([0-9a-f-]{36})$/, fill.show],
  [/^#\/outbox$/, outbox.show],
  [/^#\/work$/, work.show],
  [/^#\/me$/, me.show],
];
// A provider's user: the needs dispatched to their organisation, the outbox and their account; no households.
const PROVIDER_ROUTES = [
  [/^#\/jobs$/, jobs.list],
  [/^#\/job\/([0-9a-f-]{36})$/, jobs.show],
  [/^#\/outbox$/, outbox.show],
  [/^#\/me$/, me.show],
];

async function route() {
  const user = await get("kv", "user");
  document.getElementById("tabs").hidden = !user;
  if (!user) return login.show();
  // Supervisors, the bureau and admins on a wide screen are handed to the console at login (screens/login.js);
  // on a phone every role that fills forms uses this app. A provider's user gets their orders instead.
  const provider = user.role === "provider";
  const home = provider ? "#/jobs" : "#/households";
  const hash = location.hash || home;
  for (const a of document.querySelectorAll("#tabs a")) {
    if (a.dataset.for) a.hidden = a.dataset.for !== (provider ? "provider" : "staff");
    a.classList.toggle("on", hash.startsWith(a.getAttribute("href")));
  }
  for (const [pattern, screen] of provider ? PROVIDER_ROUTES : ROUTES) {
    const m = pattern.exec(hash);
    if (m) return screen(...m.slice(1));
  }
  location.hash = home;
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
  // A provider's user syncs no households (the server answers 403): their orders are fetched by their screen.
  if ((await get("kv", "user"))?.role === "provider") return;
  try {
    // What changed is shown at once on the screens that only read; a form being filled (a registration, a
    // correction) is left alone.
    if ((await syncNow()) && /^(#\/households|#\/household\/[0-9a-f-]{36}|)$/.test(location.hash)) route();
  } catch (e) {
    if (e.status === 401) toast("登录已过期：请在“我的”中重新登录，未发送的内容会保留");
    return;
  }
  // The files of the households due a visit, kept whole for the round offline (a role without visit plans: none).
  try { await keepDueFiles(); } catch { /* offline, or not this role's: the files opened stay kept */ }
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
