// 待发送: what waits in the outbox and what became of it — pending, sent, refused (with the server's reason).
import { del } from "../db.js";
import { items, onChange, progressOf, send } from "../outbox.js";
import { fmtTime, h, mount } from "../ui.js";

const STATES = { pending: "待发送", sent: "已发送", refused: "被拒收", returned: "被退回" };
const KINDS = { household: "新户", correction: "更正", photo: "照片", submission: "表单", need: "订单" };

let list = null;  // the list on screen, repainted whenever the outbox changes

async function repaint() {
  if (!list?.isConnected) return;
  const all = await items();
  list.replaceChildren(...(all.length ? all.map(row) : [h("p.muted", "没有待发送的内容")]));
}
onChange(repaint);

export async function show() {
  list = h("div");
  mount(h("div.row", h("h1.grow", "待发送"), h("button.ghost", { onclick: () => send() }, "立即发送")),
    h("p.muted", "没有网络时保存在手机上，联网后自动发送。"), list);
  await repaint();
}

function row(item) {
  const tag = h(`span.tag.${item.state}`, STATES[item.state]);
  const actions = [];
  if (item.state === "refused" && item.kind === "submission" && item.draft) {
    actions.push(h("a.btn.ghost", { href: `#/fill/${item.draft}` }, "修改后重发"));
  }
  if (item.state === "returned") actions.push(h("a.btn.ghost", { href: "#/work" }, "去更正"));
  if (item.state === "refused") {
    actions.push(h("button.ghost", { onclick: async () => {
      if (confirm("删除这一项？删除后不会再发送。")) { await del("outbox", item.id); show(); }
    } }, "删除"));
  }
  return h("div.card", { dataset: { kind: item.kind, state: item.state, key: item.key } },
    h("div.row", h("span.tag", KINDS[item.kind]), h("b.grow", item.label || item.key), tag),
    item.kind === "photo" && item.state === "pending" ? h("progress", { max: 1, value: progressOf(item) }) : null,
    item.why ? h("p.err", item.why) : null,
    (item.errors || []).map((e) => h("p.err", `${e.pointer}：${e.detail}`)),
    h("div.muted", item.sent_at ? `发送于 ${fmtTime(item.sent_at)}` : `保存于 ${fmtTime(item.created)}`),
    actions.length ? h("div.row", actions) : null);
}

