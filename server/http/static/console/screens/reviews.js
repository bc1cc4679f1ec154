// 审核: the submissions of my township, filtered by form, worker, community, state and evidence warning; one opened
// beside the list with its photos (time taken, distance from the home), its answers, the submission it corrects
// shown against it, and approve or return with a comment.
import { apiRaw } from "../api.js";
import { allQuestions, choicesOf } from "../forms/model.js";

const STATES = { pending: ["待审核", "warn"], approved: ["已通过", "ok"], returned: ["已退回", "bad"], replaced: ["已被更正", ""] };
const REVIEWERS = ["admin", "supervisor"];

async function everything(api, path, query = {}) {
  const items = [];
  let cursor;
  do {
    const page = await api(path, { query: { ...query, cursor } });
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor && items.length < 2000);
  return items;
}

export default async function render(root, ctx) {
  const { api, ui, params, navigate } = ctx;
  const { h } = ui;
  const [forms, users, areas] = await Promise.all([everything(api, "/api/v1/forms"),
    everything(api, "/api/v1/users").catch(() => []), everything(api, "/api/v1/areas")]);
  const names = Object.fromEntries(users.map((u) => [u.id, u.display_name || u.username]));
  const titles = Object.fromEntries(forms.map((f) => [f.slug, f.title]));
  const go = (changes) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(changes)) { if (v) next.set(k, v); else next.delete(k); }
    navigate(`#/reviews?${next}`);
  };
  const select = (name, label, options) => h("label", `${label} `, h("select", { name, onchange: (e) => go({ [name]: e.target.value, id: "" }) },
    h("option", { value: "" }, "全部"), options.map(([v, l]) => h("option", { value: v, selected: params.get(name) === v }, l))));
  const filters = h("div.toolbar",
    select("form", "表单", forms.map((f) => [f.slug, f.title])),
    select("author", "社工", users.filter((u) => u.role === "worker").map((u) => [u.id, u.display_name || u.username])),
    select("area", "社区", areas.filter((a) => a.level === "community").map((a) => [a.id, a.name])),
    h("label", "状态 ", h("select", { name: "state", onchange: (e) => go({ state: e.target.value === "pending" ? "" : e.target.value, id: "" }) },
      [["pending", "待审核"], ["all", "全部"], ...Object.entries(STATES).filter(([k]) => k !== "pending").map(([k, [l]]) => [k, l])]
        .map(([v, l]) => h("option", { value: v, selected: (params.get("state") || "pending") === v }, l)))),
    h("label.inline", h("input", { type: "checkbox", name: "flagged", checked: params.get("flagged") === "true",
      onchange: (e) => go({ flagged: e.target.checked ? "true" : "", id: "" }) }), "只看有证据提示的"));
  const query = Object.fromEntries(["form", "author", "area", "flagged"].map((k) => [k, params.get(k) || undefined]));
  const state = params.get("state") || "pending";  // the queue: what waits for review, unless asked otherwise
  if (state !== "all") query.state = state;
  // The queue in the order the submissions arrived, the longest waiting first, a page (100) at a time: 更多 asks the
  // API for the next page with its cursor and the same filters. Opening one leaves the list as it is.
  const items = [];
  let cursor = null;
  let chosen = params.get("id");
  const list = h("div");
  const count = h("span.muted");
  const more = h("button", { type: "button", class: "ghost more", onclick: () => load() }, "更多");
  const detail = h("div", { id: "detail", class: "grow", style: { minWidth: 0 } });
  const choose = async (id) => {
    chosen = id;
    for (const tr of list.querySelectorAll("tr[data-submission]")) tr.classList.toggle("on", tr.dataset.submission === id);
    // The address follows the opened submission without drawing the screen again (replaceState fires no hashchange).
    const next = new URLSearchParams(params);
    next.set("id", id);
    history.replaceState(null, "", `#/reviews?${next}`);
    await show(id);
  };
  // Each opening draws into a box of its own: one still loading when another is chosen writes into a detached box.
  const show = async (id) => {
    const box = h("div");
    detail.replaceChildren(box);
    try {
      await open(box, ctx, id, { names, titles, go, reviewed });
    } catch (err) { box.append(h("div.card.error", { role: "alert" }, `无法打开这份提交：${err.message}`)); }
  };
  // A review changes one row's state in place; the pages already read stay.
  const reviewed = (s) => {
    const at = items.findIndex((x) => x.id === s.id);
    if (at >= 0) { items[at] = { ...items[at], review: s.review }; draw(); }
    return choose(s.id);
  };
  const draw = () => {
    list.replaceChildren(ui.table([
      { label: "收到时间", value: (s) => h("a", { href: "#", onclick: (e) => { e.preventDefault(); choose(s.id); } }, ui.formatTime(s.received_at)) },
      { label: "表单", value: (s) => `${titles[s.form] || s.form} 第 ${s.version} 版` },
      { label: "社工", value: (s) => names[s.author] || "—" },
      { label: "状态", value: (s) => badge(h, s) },
      { label: "证据提示", value: (s) => (s.flags?.length ? h("span.badge.warn", `${s.flags.length} 条`) : "") },
    ], items, { empty: "没有符合条件的提交", rowAttrs: (s) => ({ class: [s.id === chosen ? "on" : "", s.flags?.length ? "warn" : ""].join(" "), dataset: { submission: s.id } }) }));
    count.textContent = items.length ? `已列出 ${items.length} 份${cursor ? "，还有更多" : "，已全部列出"}` : "";
    more.style.display = cursor ? "" : "none";
  };
  const load = async () => {
    more.disabled = true;
    try {
      const page = await api("/api/v1/submissions", { query: { ...query, cursor: cursor || undefined } });
      items.push(...page.items);
      cursor = page.next_cursor;
      draw();
    } catch (err) { ui.toast(err.message, "error"); } finally { more.disabled = false; }
  };
  ui.append(root, [h("h1", "审核"), filters,
    h("p.muted", state === "pending" ? "列出待审核的提交，最早收到的在前；选择状态可查看其他。" : "按收到的先后排列，最早收到的在前。"),
    h("div", { style: { display: "flex", gap: "1rem", alignItems: "flex-start" } },
      h("div", { style: { width: "44%", flex: "none" } }, list, h("div.toolbar", more, count)), detail)]);
  await load();
  if (chosen) await show(chosen);
}

const badge = (h, s) => { const [l, k] = STATES[s.review.state] || [s.review.state, ""]; return h("span", { class: `badge ${k}` }, l); };

async function open(box, { api, ui, me }, id, { names, titles, go, reviewed }) {
  const { h } = ui;
  const s = await api(`/api/v1/submissions/${id}`);
  const [version, original, household] = await Promise.all([
    api(`/api/v1/forms/${s.form}/versions/${s.version}`),
    s.replaces ? api(`/api/v1/submissions/${s.replaces}`) : null,
    api(`/api/v1/households/${s.household}`).catch(() => null),
  ]);
  const comment = h("textarea", { name: "comment", rows: 2, placeholder: "退回时写明需要修改的地方" });
  const act = (state) => async (e) => {
    e.currentTarget.disabled = true;
    ui.showProblem(box, null);
    try {
      const done = await api(`/api/v1/submissions/${id}/review`, { method: "POST", body: { state, comment: comment.value.trim() || undefined } });
      ui.toast(state === "approved" ? "已通过" : "已退回给社工");
      await reviewed(done);
    } catch (err) { ui.showProblem(box, err); e.target.disabled = false; }
  };
  const mayReview = REVIEWERS.includes(me.role) && s.review.state !== "replaced";
  ui.append(box, [
    h("div.card",
      h("div.toolbar", h("h2", { style: { margin: 0 } }, `${titles[s.form] || version.title}（第 ${s.version} 版）`), badge(h, s)),
      h("dl.kv",
        h("dt", "户"), h("dd", household ? `${household.head}，${household.address}` : s.household),
        h("dt", "社工"), h("dd", names[s.author] || "—"),
        h("dt", "走访时间"), h("dd", `${ui.formatTime(s.started_at)} 至 ${ui.formatTime(s.finished_at)}`),
        h("dt", "收到时间"), h("dd", ui.formatTime(s.received_at)),
        s.review.comment ? [h("dt", "审核意见"), h("dd", s.review.comment)] : null),
      s.replaced_by ? h("p.warn", "这份提交已被更正：", h("a", { href: "#", onclick: (e) => { e.preventDefault(); go({ id: s.replaced_by, state: "all" }); } }, "查看更正后的提交")) : null,
      mayReview ? h("div", { dataset: { pointer: "/comment" } }, comment,
        h("div.toolbar", h("button", { type: "button", onclick: act("approved") }, "通过"),
          h("button", { type: "button", class: "danger", onclick: act("returned") }, "退回"))) : null),
    s.flags?.length ? h("div.card.warn", { id: "flags" }, h("h3", "证据提示"), h("ul", s.flags.map((f) => h("li", f.detail)))) : null,
    s.attachments.length ? h("div.card", h("h3", `照片（${s.attachments.length}）`), h("div.thumbs", s.attachments.map((a) => photo(h, apiRaw, a, version)))) : null,
    h("div.card", h("h3", original ? "答案（与被更正的提交对照）" : "答案"), answers(h, version, s.data, original?.data),
      original ? h("p.muted", `被更正的提交：${ui.formatTime(original.received_at)} 收到，审核意见：${original.review.comment || "—"}`) : null),
  ]);
}

function photo(h, apiRaw, a, version) {
  const img = h("img", { alt: "照片" });
  apiRaw(`/api/v1/attachments/${a.sha256}`, { query: { size: "thumb" } })
    .then(async (r) => { if (r.ok) img.src = URL.createObjectURL(await r.blob()); else img.alt = "缩略图尚未生成"; })
    .catch(() => { img.alt = "无法加载"; });
  const title = allQuestions(version).find((q) => a.pointer === q.template || a.pointer.startsWith(`${q.template}/`))?.node.title || a.pointer;
  const distance = a.distance_m == null ? "距离未知" : a.distance_m >= 1000 ? `距该户 ${(a.distance_m / 1000).toFixed(1)} 公里` : `距该户 ${a.distance_m} 米`;
  const taken = a.taken_at ? `拍摄于 ${new Date(a.taken_at).toLocaleString("zh-CN", { hour12: false })}` : "拍摄时间未知";
  return h("figure", { dataset: { sha256: a.sha256 } }, img, h("figcaption", h("b", title), h("br"), taken, h("br"),
    h("span", { class: a.distance_m > 1000 ? "warn" : "" }, distance)));
}

// Each top-level answer in the form's words; with `before`, the replaced submission's answer beside it.
function answers(h, version, data, before) {
  // A group's answers in its questions' words: 姓名：李桂兰，关系：本人 (a repeated group's entries one after another).
  const group = (q, item) => q.children.filter((c) => item?.[c.name] !== undefined && item?.[c.name] !== null)
    .map((c) => `${c.node.title || c.name}：${show(c, item[c.name])}`).join("，");
  const show = (q, v) => {
    if (v === undefined || v === null) return "—";
    if (q.children?.length && typeof v === "object") {
      return Array.isArray(v) ? v.map((item, i) => `${i + 1}. ${group(q, item)}`).join("；") : group(q, v);
    }
    if (q.kind === "boolean") return v ? "是" : "否";
    if (["photo", "photos", "signature"].includes(q.kind)) return `照片 ${[v].flat().length} 张（${[v].flat().map((x) => x.slice(0, 8)).join("、")}）`;
    const labels = Object.fromEntries(choicesOf(q).map(([c, l]) => [JSON.stringify(c), l || String(c)]));
    if (Array.isArray(v)) return v.map((x) => (typeof x === "object" ? JSON.stringify(x) : labels[JSON.stringify(x)] || String(x))).join("、");
    if (typeof v === "object") return JSON.stringify(v);
    return labels[JSON.stringify(v)] || String(v);
  };
  const top = allQuestions(version).filter((q) => !q.group);
  return h("table", { class: "list answers" }, h("thead", h("tr", h("th", "题目"), before ? h("th", "原提交") : null, h("th", before ? "更正后" : "答案"))),
    h("tbody", top.map((q) => {
      const name = q.name;
      const now = show(q, data[name]);
      const was = before ? show(q, before[name]) : null;
      return h("tr", { class: before && was !== now ? "warn" : "", dataset: { question: q.template } }, h("td", { style: { whiteSpace: "nowrap" } }, q.node.title || name),
        before ? h("td", { class: was !== now ? "removed" : "" }, was) : null, h("td", { class: before && was !== now ? "changed" : "" }, now));
    })));
}
