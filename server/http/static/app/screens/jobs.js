// 我的订单 (a provider's user): the needs dispatched to their organisation, with masked names, the community and the
// contact the household agreed to share; accept, decline with a reason, start, complete with a note, the household's
// confirmation and proof photos. Actions wait in the outbox like submissions (photos first); the list is cached.
import { call, Offline } from "../api.js";
import { all, get, put } from "../db.js";
import { enqueue, onChange } from "../outbox.js";
import { sha256, shrink } from "../photo.js";
import { STATUS, URGENCY } from "../needs.js";
import { h, mount, toast, uuid } from "../ui.js";

// What each action leads to on the phone until the server answers (lifecycle.TRANSITIONS).
const LEADS = { accept: "accepted", decline: "raised", start: "in_service", complete: "done" };
const ACTIONS = { accept: "接单", decline: "拒单", start: "开始服务", complete: "完成服务" };
const HOW = { in_person: "当面确认", signature: "签字确认", phone: "电话确认" };
const day = (iso) => (iso ? iso.slice(0, 10) : "—");

// The actions of a need still in the outbox: the newest one says where the phone believes the need stands.
async function waiting(id) {
  return (await all("outbox")).filter((i) => i.kind === "need" && i.need === id)
    .sort((a, b) => a.created.localeCompare(b.created));
}

function card(n, acts, link) {
  const last = acts.at(-1);
  const status = last && last.state !== "refused" ? LEADS[last.action] : n.status;
  return h(link ? "a.card" : "div.card", { href: link ? `#/job/${n.id}` : undefined, dataset: { job: n.id, status } },
    h("div.row", h("b.grow", n.item_name || n.item), h("span.tag", URGENCY[n.urgency] || n.urgency), " ",
      h(`span.tag${n.overdue ? ".overdue" : ""}`, STATUS[status] || status)),
    h("div.muted", `${n.head || ""}${n.member ? `（${n.member}）` : ""} · ${n.community_name || ""}`),
    n.contact ? h("div.muted", `联系方式：${n.contact}`) : null,
    n.description ? h("div.muted", n.description) : null,
    h("div.muted", `应于 ${day(n.due_at)} 前办结`),
    acts.map((a) => h(`p.${a.state === "refused" ? "err" : "muted"}`, { dataset: { act: a.action, state: a.state } },
      `${ACTIONS[a.action]}：${{ pending: "待发送", sent: "已发送", refused: `被拒绝：${a.why}` }[a.state]}`)));
}

export async function list() {
  let note = null;
  try {
    await put("kv", (await call("GET", "/needs?status=open")).data.items, "jobs");
  } catch (e) {
    note = h("p.muted", e instanceof Offline ? "离线：显示上次联网时的内容。" : `无法刷新：${e.message}`);
  }
  const jobs = (await get("kv", "jobs")) || [];
  const cards = await Promise.all(jobs.map(async (n) => card(n, await waiting(n.id), true)));
  // The list was asked for a moment ago (a route, an outbox change): a need opened meanwhile keeps the screen.
  if (location.hash && location.hash !== "#/jobs") return;  // (no hash: the provider's home, this list)
  mount(h("h1", "我的订单"), note, h("h2", `待办理（${jobs.length}）`), cards.length ? cards : h("p.muted", "没有派给本机构的需求"));
}

export async function show(id) {
  const n = ((await get("kv", "jobs")) || []).find((j) => j.id === id);
  if (!n) return mount(h("h1", "订单"), h("p.muted", "找不到这条需求：它可能已被改派或关闭。"), h("a.btn.ghost", { href: "#/jobs" }, "返回"));
  const acts = await waiting(id);
  const last = acts.at(-1);
  const status = last && last.state !== "refused" ? LEADS[last.action] : n.status;
  const repaint = () => location.hash === `#/job/${id}` && show(id);
  const act = async (action, body) => {
    await enqueue("need", uuid(), { need: id, action, body, label: `${ACTIONS[action]}：${n.item_name || n.item} · ${n.head || ""}` });
    toast(`${ACTIONS[action]}：已保存，将自动发送`);
    repaint();
  };
  const parts = [];
  if (status === "dispatched") {
    const reason = h("textarea", { name: "reason", rows: 2, maxLength: 500, placeholder: "拒单原因（必填）" });
    parts.push(h("div.row", h("button", { type: "button", onclick: () => act("accept") }, "接单")),
      h("div.field", h("label.q", "拒单原因"), reason),
      h("button.ghost", { type: "button", onclick: () => {
        if (!reason.value.trim()) return toast("请写明拒单原因");
        act("decline", { reason: reason.value.trim() });
      } }, "拒单"));
  } else if (status === "accepted") {
    parts.push(h("button", { type: "button", onclick: () => act("start") }, "开始服务"));
  } else if (status === "in_service") {
    parts.push(completeForm(n, act));
  }
  mount(h("a.btn.ghost", { href: "#/jobs" }, "返回"), h("h1", n.item_name || n.item), card(n, acts, false), ...parts);
}

function completeForm(n, act) {
  const shas = [];
  const thumbs = h("div.thumbs");
  const note = h("textarea", { name: "note", rows: 3, maxLength: 1000, required: true });
  const by = h("input", { type: "text", name: "by", maxLength: 50, required: true });
  const how = h("select", { name: "how" }, Object.entries(HOW).map(([v, t]) => h("option", { value: v }, t)));
  const draw = async () => thumbs.replaceChildren(...await Promise.all(shas.map(async (sha) =>
    h("figure", h("img", { src: URL.createObjectURL(await get("blobs", sha)), alt: "服务照片" }),
      h("button.ghost", { type: "button", onclick: () => { shas.splice(shas.indexOf(sha), 1); draw(); } }, "删除")))));
  const input = h("input", { type: "file", name: "proof", accept: "image/*", capture: "environment", multiple: true,
    hidden: true, onchange: async (e) => {
      for (const file of e.target.files) {
        try {
          const small = await shrink(file);
          const sha = await sha256(small);
          await put("blobs", small, sha);
          if (!shas.includes(sha) && shas.length < 20) shas.push(sha);
        } catch {
          toast("无法读取这张照片，请重拍");
        }
      }
      input.value = "";
      draw();
    } });
  const error = h("p.err", { role: "alert" });
  return h("form.card", { onsubmit: async (e) => {
    e.preventDefault();
    if (!note.value.trim() || !by.value.trim()) return (error.textContent = "请填写服务说明和确认人");
    if (!shas.length) return (error.textContent = "请至少拍一张服务照片");
    for (const sha of shas) {
      const blob = await get("blobs", sha);
      await enqueue("photo", sha, { type: blob?.type || "image/jpeg", label: `服务照片 ${sha.slice(0, 8)}` });
    }
    await act("complete", { note: note.value.trim(), attachments: [...shas],
      confirmation: { by: by.value.trim(), how: how.value } });
  } },
  h("h2", "完成服务"),
  h("div.field", h("label.q", "服务说明"), note),
  h("div.field", h("label.q", "住户确认人"), by),
  h("div.field", h("label.q", "确认方式"), how),
  h("div.field", h("label.q", "服务照片"), input,
    h("button.ghost", { type: "button", onclick: () => input.click() }, "拍照或选择照片"), thumbs),
  error, h("button.wide", { type: "submit" }, "完成服务"));
}

// A sent or refused action changes what the screen shows: the list is repainted, and on a need's screen its card
// (not the completion form being filled).
onChange(async () => {
  if (location.hash === "#/jobs") return list();
  const shown = document.querySelector("#main .card[data-job]");
  const id = shown && location.hash === `#/job/${shown.dataset.job}` && shown.dataset.job;
  const n = id && ((await get("kv", "jobs")) || []).find((j) => j.id === id);
  if (n && shown.isConnected) shown.replaceWith(card(n, await waiting(id), false));
});
