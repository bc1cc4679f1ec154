// Needs (需求) on the phone: each with its status and due date, on the household file and in My work, where the
// open needs of the worker's households wait to be followed up, overdue first. Kept in IndexedDB for offline.
import { call } from "./api.js";
import { put } from "./db.js";
import { h } from "./ui.js";

export const STATUS = { raised: "待派单", dispatched: "已派单", accepted: "已接单", in_service: "服务中",
  done: "已完成", evaluated: "已评价", closed: "已关闭" };
export const URGENCY = { normal: "一般", high: "较急", urgent: "紧急" };
const OPEN = ["raised", "dispatched", "accepted", "in_service"];

const day = (iso) => (iso ? iso.slice(0, 10) : "—");
const isOverdue = (n) => n.overdue ?? (OPEN.includes(n.status) && n.due_at && new Date(n.due_at) < new Date());

export function needCard(n, { withHousehold = false } = {}) {
  const overdue = isOverdue(n);
  return h(withHousehold ? "a.card" : "div.card", { href: withHousehold ? `#/household/${n.household}` : undefined,
    dataset: { need: n.id, status: n.status } },
  h("div.row", h("b.grow", n.item_name || n.item), h("span.tag", URGENCY[n.urgency] || n.urgency), " ",
    h(`span.tag${overdue ? ".overdue" : ""}`, overdue ? `${STATUS[n.status] || n.status} · 已逾期` : STATUS[n.status] || n.status)),
  withHousehold ? h("div.muted", `${n.head || ""} ${n.community_name || ""} ${n.address || ""}`) : null,
  n.description ? h("div.muted", n.description) : null,
  h("div.muted", `应于 ${day(n.due_at)} 前办结${n.provider_name || n.outcome?.provider_name ? ` · ${n.provider_name || n.outcome.provider_name}` : ""}`));
}

// The open needs of the worker's households (every page of the list), overdue first, then by due date.
export async function fetchOpen() {
  const needs = [];
  let cursor = null;
  do {
    const page = (await call("GET", `/needs?status=open${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`)).data;
    needs.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor);
  needs.sort((a, b) => Number(isOverdue(b)) - Number(isOverdue(a)) || (a.due_at || "").localeCompare(b.due_at || ""));
  await put("kv", needs, "needs");
  return needs;
}
