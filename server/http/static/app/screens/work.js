// 我的工作: visits due and overdue (the visit plans), the open needs of my households (overdue first), and
// submissions a supervisor returned, to be corrected.
// Fetched when online and kept for offline.
import { call, Offline } from "../api.js";
import { all, get, put } from "../db.js";
import { fetchOpen, needCard } from "../needs.js";
import { fmtTime, h, mount } from "../ui.js";
import { start } from "./household.js";

export async function show() {
  const user = await get("kv", "user");
  let note = null;
  try {
    const [due, returned] = await Promise.all([call("GET", "/visit-plans/due"), call("GET", "/submissions?state=returned"),
      fetchOpen()]);
    await put("kv", due.data.items, "due");
    const mine = returned.data.items.filter((s) => s.author === user.id);
    await put("kv", mine, "returned");
    for (const s of mine) {  // the outbox shows them as returned, with the supervisor's comment
      const sent = await get("outbox", s.id);
      if (sent?.state === "sent") await put("outbox", { ...sent, state: "returned", why: `退回意见：${s.review?.comment || "—"}` });
    }
  } catch (e) {
    note = h("p.muted", e instanceof Offline ? "离线：显示上次联网时的内容。" : `无法刷新：${e.message}`);
  }
  if (location.hash !== "#/work") return;  // another screen was opened while this one was fetched
  const due = (await get("kv", "due")) || [];
  const returned = (await get("kv", "returned")) || [];
  const needs = (await get("kv", "needs")) || [];
  const forms = await all("forms");
  mount(h("h1", "我的工作"), note,
    h("h2", `应走访（${due.length}）`),
    due.length ? due.map((d) => h("a.card", { href: `#/household/${d.household}` },
      h("div.row", h("b.grow", d.name || "—"),
        h("span.tag.overdue", d.days_overdue > 0 ? `逾期 ${d.days_overdue} 天` : "今天到期")),
      h("div.muted", `${d.community_name || ""} ${d.address || ""}`),
      h("div.muted", `上次走访 ${d.last_visit_on || "无"} · 应于 ${d.due_on}`))) : h("p.muted", "没有到期的走访"),
    h("h2", `待跟进的需求（${needs.length}）`),
    needs.length ? needs.map((n) => needCard(n, { withHousehold: true })) : h("p.muted", "没有待跟进的需求"),
    h("h2", `被退回的表单（${returned.length}）`),
    returned.length ? returned.map((s) => h("div.card",
      h("div.row", h("b.grow", `${s.form} 第 ${s.version} 版`), h("span.tag.returned", "已退回")),
      h("p.err", `退回意见：${s.review?.comment || "—"}`),
      h("div.muted", `提交于 ${fmtTime(s.received_at)}`),
      h("button.ghost", { onclick: () => {
        const form = forms.find((f) => f.slug === s.form) || { slug: s.form, version: s.version };
        start(form, s.household, { data: structuredClone(s.data), replaces: s.id });
      } }, "更正后重新提交"))) : h("p.muted", "没有被退回的表单"));
}
