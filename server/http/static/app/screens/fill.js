// 填写表单: a form version rendered from its schema and UI hints, page by page, saved as a draft at every answer.
// Sending puts the submission (and its photos) in the outbox; a 422 the server gave later is shown at its fields.
import { all, get, put } from "../db.js";
import { checkAll } from "../form/check.js";
import { photos, withoutHidden } from "../form/model.js";
import { pagesOf, paintQuestions, templateOf } from "../form/page.js";
import { compute } from "../form/rules.js";
import { rfc3339 } from "../form/widgets.js";
import { enqueue } from "../outbox.js";
import { h, mount } from "../ui.js";

export async function show(id) {
  const draft = await get("drafts", id);
  if (!draft) return mount(h("p.muted", "这份表单已发送或已删除。"), h("a.btn.ghost", { href: "#/outbox" }, "查看待发送"));
  const version = (await all("forms")).find((f) => f.slug === draft.form);
  if (!version) return mount(h("p.muted", "本机没有这张表单，请联网同步。"));
  draft.version = version.version;
  const pages = pagesOf(version);
  const household = await get("households", draft.household);
  const save = () => put("drafts", draft);
  compute(version.ui, draft.data);

  function pageOf(pointer) {
    const template = templateOf(version.schema, pointer);
    const p = pages.findIndex((page) => page.questions.some((q) => template === q || template.startsWith(`${q}/`)));
    return Math.max(p, 0);
  }

  function paint() {
    const page = pages[draft.page];
    const errors = Object.fromEntries((draft.errors || []).map((e) => [e.pointer, e.detail]));
    const { body, placed } = paintQuestions(version, page.questions, draft.data, {
      errors,
      changed: (pointer) => { draft.errors = (draft.errors || []).filter((e) => e.pointer !== pointer); save(); },
      repaint: () => { save(); paint(); },
    });
    const elsewhere = (draft.errors || []).filter((e) => !placed.has(e.pointer));
    const last = draft.page === pages.length - 1;
    mount(
      h("h1", version.title), h("p.muted", `${household?.head || ""} · 第 ${draft.page + 1}/${pages.length} 页 ${page.title || ""}`),
      draft.refused ? h("p.err", `服务器退回：${draft.refused}`) : null,
      elsewhere.length ? h("div.card", elsewhere.map((e) => h("p.err", h("a", { href: "#", onclick: (ev) => {
        ev.preventDefault(); draft.page = e.page ?? pageOf(e.pointer); save(); paint();
      } }, `${e.pointer || "表单"}：${e.detail}`)))) : null,
      page.help ? h("p.help", page.help) : null, body,
      h("div.pager",
        h("button.ghost", { type: "button", disabled: draft.page === 0, onclick: () => { draft.page -= 1; save(); paint(); } }, "上一页"),
        last ? h("button", { type: "button", onclick: submit }, "提交")
          : h("button", { type: "button", onclick: next }, "下一页")));
  }

  function next() {
    const errors = checkAll(version, pages, draft.data).filter((e) => e.page === draft.page);
    draft.errors = errors;
    if (!errors.length) draft.page += 1;
    save();
    paint();
    if (errors.length) document.querySelector(".field.bad")?.scrollIntoView({ block: "center" });
  }

  async function submit() {
    const errors = checkAll(version, pages, draft.data, true);
    draft.errors = errors;
    if (errors.length) {
      draft.page = errors[0].page;
      await save();
      return paint();
    }
    const data = compute(version.ui, withoutHidden(version.ui, version.schema, draft.data));
    const attachments = photos(version.ui, version.schema, data);
    for (const a of attachments) {
      const blob = await get("blobs", a.sha256);
      await enqueue("photo", a.sha256, { type: blob?.type || "image/jpeg", label: `照片 ${a.sha256.slice(0, 8)}` });
    }
    const body = { form: version.slug, version: version.version, household: draft.household, data, attachments,
      started_at: rfc3339(new Date(draft.started_at)), finished_at: draft.finished_at || rfc3339(new Date()) };
    if (draft.replaces) body.replaces = draft.replaces;
    draft.finished_at = body.finished_at;
    draft.refused = null;
    await save();
    await enqueue("submission", draft.submission || (draft.submission = draft.id), {
      body, draft: draft.id, label: `${version.title}：${household?.head || ""}` });
    location.hash = "#/outbox";
  }

  const toServerErrors = draft.errors?.length && draft.fromServer;
  if (toServerErrors) {
    draft.page = pageOf(draft.errors[0].pointer);
    draft.fromServer = false;
  }
  paint();
  if (toServerErrors) document.querySelector(".field.bad")?.scrollIntoView({ block: "center" });
}
