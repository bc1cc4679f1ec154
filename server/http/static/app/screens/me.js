// The worker's own page: sync state and logout. Logging out wipes the phone's copy of the households and the
// outbox, but only once everything is sent, or after the worker confirms losing what is not.
import { call } from "../api.js";
import { del, get, wipe } from "../db.js";
import { items, pendingCount, send } from "../outbox.js";
import { syncNow } from "../sync.js";
import { fmtTime, h, mount, toast } from "../ui.js";

export async function show() {
  const user = await get("kv", "user");
  const synced = h("dd", fmtTime(await get("kv", "synced_at")));
  const provider = user.role === "provider";  // no households to sync (the server answers 403)
  mount(h("h1", "我的"),
    h("div.card", h("dl.kv", h("dt", "姓名"), h("dd", user.display_name || user.username),
      h("dt", "账号"), h("dd", user.username), provider ? null : [h("dt", "上次同步"), synced])),
    provider ? null : h("button.ghost.wide", { onclick: async () => {
      try { await syncNow(); synced.textContent = fmtTime(await get("kv", "synced_at")); toast("同步完成"); }
      catch (e) { toast(`同步失败：${e.message}`); }
    } }, "立即同步"),
    h("p"),
    // A token that expired: log in again, keeping what waits in the outbox.
    h("button.ghost.wide", { onclick: async () => { await del("kv", "token"); await del("kv", "user"); location.hash = ""; location.reload(); } },
      "重新登录（保留未发送的内容）"),
    h("p"),
    h("button.danger.wide", { onclick: logout }, "退出登录"));
}

async function logout() {
  await send();  // with the network, what waits goes now; without, this fails at once
  const waiting = await pendingCount();
  const refused = (await items()).filter((i) => i.state === "refused").length;
  const lost = [waiting ? `${waiting} 项未发送` : "", refused ? `${refused} 项被拒收未处理` : ""].filter(Boolean).join("、");
  if (lost && !confirm(`还有 ${lost}，退出将从本机删除它们。确定退出吗？`)) return;
  try { await call("POST", "/auth/logout"); } catch { /* offline: the token expires by itself */ }
  await wipe();
  location.hash = "";
  location.reload();
}
