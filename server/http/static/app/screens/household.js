// 户档案: a household's file. Members and the situation come from sync (offline); visits and needs from the whole
// file (files.js), kept on the phone once opened online (or due a visit) and fetched again whenever online.
import { Offline } from "../api.js";
import { all, get, put } from "../db.js";
import { fetchFile } from "../files.js";
import { prefill } from "../form/prefill.js";
import { needCard } from "../needs.js";
import { fmtTime, h, mount, uuid } from "../ui.js";

const TAGS = { elderly: "老年人", living_alone: "独居", empty_nest: "空巢", left_behind: "留守", child: "儿童",
  orphan: "孤儿", de_facto_unsupported: "事实无人抚养", disability: "残疾", mental_disorder: "精神障碍",
  subsistence_allowance: "低保", extreme_hardship: "特困", low_income: "低收入", serious_illness: "重病",
  relocated: "易地搬迁" };
const REVIEW = { pending: "待审核", approved: "已通过", returned: "已退回", replaced: "已更正" };

export async function show(id) {
  const household = await get("households", id);
  if (!household) return mount(h("p.muted", "本机没有该户的档案。"), h("a.btn.ghost", { href: "#/households" }, "返回"));
  const forms = (await all("forms")).sort((a, b) => a.title.localeCompare(b.title, "zh-CN"));
  const due = ((await get("kv", "due")) || []).filter((d) => d.household === id);
  const titles = Object.fromEntries(forms.map((f) => [f.slug, f.title]));
  const drafts = (await all("drafts")).filter((d) => d.household === id && !d.finished_at);
  const more = h("div", h("p.muted", "正在读取走访记录…"));
  mount(
    h("div.row", h("h1.grow", household.head || "（未填户主）"), household.pending ? h("span.tag.pending", "待发送") : null),
    h("div.card", h("dl.kv", h("dt", "地址"), h("dd", household.address || "—"), h("dt", "电话"), h("dd", household.phone || "—"),
      ...Object.entries(household.situation || {}).filter(([, v]) => typeof v !== "object")
        .flatMap(([k, v]) => { const [title, label] = situationLabel(forms, k, v); return [h("dt", title), h("dd", label)]; }))),
    due.map((d) => h("p", h("span.tag.overdue", d.days_overdue > 0 ? `逾期 ${d.days_overdue} 天` : "今天应走访"),
      ` 应于 ${d.due_on} 走访 ${d.name || ""}`)),
    drafts.length ? h("h2", "未填完的表单") : null,
    drafts.map((d) => h("a.card", { href: `#/fill/${d.id}` }, h("b", titles[d.form] || d.form),
      h("span.muted", ` 开始于 ${fmtTime(d.started_at)}`))),
    h("h2", "填写表单"),
    h("div", forms.map((f) => h("button.ghost.chip", { onclick: () => start(f, id) }, f.title))),
    h("div.row", h("h2.grow", `成员（${(household.members || []).length}）`),
      household.pending ? null : h("a.btn.ghost", { href: `#/household/${id}/members` }, "更正成员")),
    (household.members || []).map((m) => h("div.card", h("b", m.name || "—"), " ",
      m.id_number ? h("span.muted", m.id_number) : null, h("div", (m.tags || []).map((t) => h("span.tag", TAGS[t] || t))))),
    more);
  await history(id, titles, more);
}

// The file as kept on the phone is shown at once (offline, that is all there is); online, the whole file is
// fetched again and shown if it changed. Visits go into the page CHUNK at a time, more as the list is scrolled to
// its end, so a file of 300 visits opens as fast as one of a few.
const CHUNK = 30;

async function history(id, titles, more) {
  const kept = await get("files", id);
  if (kept) {
    more.replaceChildren(h("div", fileParts(kept, titles)));
    performance.mark("doorstep:file-shown");  // bench/field_app.py times the open of a kept file by it
  }
  let file;
  try {
    file = await fetchFile(id);
  } catch (e) {
    if (!kept) more.replaceChildren(h("p.muted", e instanceof Offline ? "离线：联网后可查看走访记录。" : `无法读取走访记录：${e.message}`));
    return;
  }
  const same = (f) => JSON.stringify({ ...f, fetched_at: null });
  if (more.isConnected && (!kept || same(kept) !== same(file))) more.replaceChildren(h("div", fileParts(file, titles)));
}

function fileParts(file, titles) {
  const visits = file.visits?.items || [];
  const list = h("div.visits");
  const button = h("button.ghost.wide", { type: "button", onclick: () => next() });
  let shown = 0;
  const next = () => {
    list.append(...visits.slice(shown, shown + CHUNK).map((v) => visitCard(v, titles)));
    shown = Math.min(visits.length, shown + CHUNK);
    button.textContent = `显示更早的走访（还有 ${visits.length - shown} 条）`;
    button.hidden = shown >= visits.length;
  };
  next();
  // Scrolled to the end of what is shown: the next visits come by themselves (the button stays for a tap).
  if (visits.length > CHUNK && "IntersectionObserver" in window) {
    const watch = new IntersectionObserver((seen) => seen.some((s) => s.isIntersecting) && !button.hidden && next());
    watch.observe(button);
  }
  return [
    h("h2", `走访记录（${visits.length}${file.visits?.next_cursor ? "+" : ""}）`),
    visits.length ? [list, button] : h("p.muted", "暂无走访记录"),
    h("h2", `需求（${(file.needs || []).length}）`),
    (file.needs || []).map((n) => needCard(n)),
  ];
}

function visitCard(v, titles) {
  return h("div.card", { dataset: { visit: v.id } }, h("b", fmtTime(v.started_at || v.observed_at)), " ",
    h("span.muted", v.worker_name || ""),
    v.submissions.map((s) => h("div", h("span.tag", REVIEW[s.review_state] || s.review_state),
      ` ${titles[s.form] || s.form} 第 ${s.version} 版`,
      s.photos.length ? h("div.muted", `照片 ${new Set(s.photos.map((p) => p.sha256)).size} 张`) : null)));
}

export async function start(form, household, extra = {}) {
  const id = uuid();
  // A follow-up visit starts from what the file on the phone knows (its members, the situation as last seen): the
  // worker updates it instead of typing it again, and each member row keeps its id, so the changes reach that member.
  const file = await get("households", household);
  await put("drafts", { id, form: form.slug, version: form.version, household, data: file ? prefill(form, file) : {},
    page: 0, started_at: new Date().toISOString(), ...extra });
  location.hash = `#/fill/${id}`;
}

// A situation field in the words of the forms that bind it (`x-situation`): the question's title, the choice's label.
function situationLabel(forms, key, value) {
  for (const f of forms) {
    for (const [name, q] of Object.entries(f.schema.properties || {})) {
      if (q["x-situation"] !== key) continue;
      const choices = f.ui.questions?.[`/${name}`]?.choices || {};
      return [q.title || key, choices[value] ?? (value === true ? "是" : value === false ? "否" : String(value))];
    }
  }
  return [key, String(value)];
}
