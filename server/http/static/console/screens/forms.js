// 表单设计: the forms list; a new form from scratch or from another (a built-in); the draft's structured editor with
// the raw JSON one click away and a live preview; save, publish (refusals at their questions), versions compared,
// retire. Only the public API: /api/v1/forms…
import { editor } from "../forms/editor.js";
import { preview } from "../forms/preview.js";
import { sideBySide } from "../forms/diff.js";

const DESIGNERS = ["admin", "supervisor"];

export default async function render(root, ctx) {
  const slug = ctx.params.get("slug");
  if (!slug) return list(root, ctx);
  if (ctx.params.get("tab") === "versions") return versions(root, ctx, slug);
  return edit(root, ctx, slug);
}

async function allForms(api) {
  const items = [];
  let cursor;
  do {
    const page = await api("/api/v1/forms", { query: { cursor } });
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor);
  return items;
}

const stateOf = (f) => (f.retired ? ["已停用", "bad"] : f.latest_version ? [`已发布 第 ${f.latest_version} 版`, "ok"] : ["草稿", ""]);

async function list(root, { api, ui, navigate, me }) {
  const { h } = ui;
  const forms = await allForms(api);
  root.append(h("h1", "表单设计"));
  if (DESIGNERS.includes(me.role)) {
    const slug = h("input", { type: "text", name: "slug", placeholder: "如 elder_check", size: 16, required: true });
    const title = h("input", { type: "text", name: "title", placeholder: "如 独居老人探访", size: 20, required: true });
    const source = h("select", { name: "source" }, h("option", { value: "" }, "空白表单"),
      forms.filter((f) => f.latest_version).map((f) => h("option", { value: f.slug }, `复制：${f.title}（${f.area ? f.slug : "内置"}）`)));
    const form = h("form", { class: "card", onsubmit: async (e) => {
      e.preventDefault();
      try {
        let definition = { schema: { type: "object", properties: {}, required: [] }, ui: {} };
        if (source.value) {
          const from = forms.find((f) => f.slug === source.value);
          definition = await api(`/api/v1/forms/${from.slug}/versions/${from.latest_version}`);
        }
        await api("/api/v1/forms", { method: "POST", body: { slug: slug.value.trim(), title: title.value.trim(),
          schema: definition.schema, ui: definition.ui } });
        ui.toast("已新建表单草稿");
        navigate(`#/forms?slug=${encodeURIComponent(slug.value.trim())}`);
      } catch (err) {
        ui.showProblem(form, err);
      }
    } }, h("h2", "新建表单"), h("div.toolbar",
      h("label", { dataset: { pointer: "/slug" } }, "代号 ", slug), h("label", { dataset: { pointer: "/title" } }, "标题 ", title),
      h("label", "从 ", source), h("button", { type: "submit" }, "新建")),
    h("p.muted", "代号是表单永久的名字：小写字母开头，可含数字、_ 和 -。复制内置表单后可按本乡镇（街道）的需要修改再发布。"));
    root.append(form);
  }
  root.append(ui.table([
    { label: "标题", value: (f) => h("a", { href: `#/forms?slug=${encodeURIComponent(f.slug)}` }, f.title) },
    { label: "代号", value: (f) => h("code", f.slug) },
    { label: "归属", value: (f) => (f.area ? "本辖区" : "内置") },
    { label: "状态", value: (f) => { const [t, k] = stateOf(f); return h("span", { class: `badge ${k}` }, t); } },
    { label: "", value: (f) => (f.latest_version ? h("a", { href: `#/forms?slug=${encodeURIComponent(f.slug)}&tab=versions` }, "版本对比") : "") },
  ], forms, { rowAttrs: (f) => ({ dataset: { slug: f.slug } }) }));
}

async function edit(root, { api, ui, navigate, me }, slug) {
  const { h } = ui;
  const [form, catalogue] = await Promise.all([api(`/api/v1/forms/${encodeURIComponent(slug)}`),
    api("/api/v1/catalogue").then((c) => c.items).catch(() => [])]);
  // Designers change the forms of their own area only (admins any); others read.
  const mayChange = DESIGNERS.includes(me.role) && !form.retired && (me.role === "admin" || me.areas.includes(form.area));
  const def = structuredClone({ title: form.draft.title, schema: form.draft.schema, ui: form.draft.ui || {} });
  let dirty = false;
  let raw = false;
  const status = h("span.muted");
  const [stateText, stateKind] = stateOf(form);
  const panel = h("div", { class: "grow", style: { minWidth: 0 } });
  const previewBox = h("div", { class: "preview", id: "preview" });
  const redraw = preview(previewBox);
  const titleInput = h("input", { type: "text", name: "form-title", value: def.title, size: 30, disabled: !mayChange,
    oninput: (e) => { def.title = e.target.value; changed(false); } });

  function changed(structural) {
    dirty = true;
    status.textContent = "有未保存的修改";
    if (structural) draw();
    redraw(def);
  }
  function draw() {
    ui.clear(panel);
    if (raw) {
      const text = h("textarea", { class: "code", name: "raw", value: JSON.stringify(def, null, 2), readOnly: !mayChange });
      const error = h("p.error");
      panel.append(h("div", { class: "card", dataset: { pointer: "" } }, h("p.muted", "表单的原始定义：schema 为 JSON Schema，ui 为界面提示（见表单设计指南）。"),
        text, error, mayChange ? h("button", { type: "button", onclick: () => {
          try {
            const parsed = JSON.parse(text.value);
            if (!parsed || typeof parsed.schema !== "object") throw new Error("缺少 schema");
            Object.assign(def, { title: parsed.title ?? def.title, schema: parsed.schema, ui: parsed.ui || {} });
            titleInput.value = def.title;
            raw = false;
            changed(true);
          } catch (e) {
            error.textContent = `JSON 无法解析：${e.message}`;
          }
        } }, "应用并返回结构编辑") : null));
    } else panel.append(editor(def, { changed, readOnly: !mayChange, catalogue }));
  }

  async function save() {
    await api(`/api/v1/forms/${encodeURIComponent(slug)}/draft`, { method: "PUT", body: def });
    dirty = false;
    status.textContent = "草稿已保存";
  }
  const act = (fn) => async (e) => {
    const button = e.currentTarget;
    button.disabled = true;
    ui.showProblem(root, null);
    try { await fn(); } catch (err) {
      if (err.status === 422 && raw) { raw = false; draw(); }  // the refusals go to the questions
      ui.showProblem(root, err);
    } finally { button.disabled = false; }
  };
  const buttons = mayChange ? [
    h("button", { type: "button", onclick: act(async () => { await save(); ui.toast("草稿已保存"); }) }, "保存草稿"),
    h("button", { type: "button", onclick: act(async () => {
      await save();
      const { version } = await api(`/api/v1/forms/${encodeURIComponent(slug)}/publish`, { method: "POST" });
      ui.toast(`已发布第 ${version} 版`);
      navigate(`#/forms?slug=${encodeURIComponent(slug)}&tab=versions`);
    }) }, "发布"),
  ] : [];
  const retire = mayChange ? h("button", { type: "button", class: "danger", onclick: act(async () => {
    if (!(await ui.confirmDialog(`停用「${form.title}」后不再接收新的提交（已有提交仍可查看），且不能再修改。确定停用吗？`, { ok: "停用" }))) return;
    await api(`/api/v1/forms/${encodeURIComponent(slug)}/retire`, { method: "POST" });
    ui.toast("表单已停用");
    navigate(`#/forms?slug=${encodeURIComponent(slug)}`);
  }) }, "停用") : null;
  const toggle = h("button", { type: "button", class: "ghost", onclick: (e) => {
    raw = !raw;
    e.currentTarget.textContent = raw ? "结构编辑" : "原始 JSON";
    draw();
  } }, "原始 JSON");
  ui.append(root, [
    h("div.toolbar", h("a", { href: "#/forms" }, "← 全部表单"), h("h1", { style: { margin: 0 } }, form.title),
      h("span", { class: `badge ${stateKind}` }, stateText), h("code", slug)),
    h("div.toolbar", h("label", "标题 ", titleInput), ...buttons, toggle,
      form.latest_version ? h("a", { class: "btn ghost", href: `#/forms?slug=${encodeURIComponent(slug)}&tab=versions` }, "版本对比") : null,
      retire, status),
    !mayChange ? h("p.muted", form.retired ? "此表单已停用，只能查看。" : !DESIGNERS.includes(me.role)
      ? "您的角色只能查看表单。" : "这张表单不属于您的辖区（或是内置表单），只能查看；请在表单列表中复制为本辖区的新表单再修改。") : null,
    h("div", { style: { display: "flex", gap: "1rem", alignItems: "flex-start" } }, panel, previewBox)]);
  draw();
  redraw(def);
  window.addEventListener("beforeunload", (e) => { if (dirty && root.isConnected) e.preventDefault(); }, { once: true });
}

async function versions(root, { api, ui, params, navigate }, slug) {
  const { h } = ui;
  const form = await api(`/api/v1/forms/${encodeURIComponent(slug)}`);
  const n = form.latest_version || 0;
  const fetched = new Map();
  const get = async (key) => {
    if (key === "draft") return { title: form.draft.title, schema: form.draft.schema, ui: form.draft.ui || {} };
    if (!fetched.has(key)) fetched.set(key, await api(`/api/v1/forms/${encodeURIComponent(slug)}/versions/${key}`));
    return fetched.get(key);
  };
  const names = [...Array.from({ length: n }, (_, i) => String(i + 1)), "draft"];
  const label = (k) => (k === "draft" ? "草稿" : `第 ${k} 版`);
  // By default the latest version against the one before it, or against the draft while there is only one.
  const left = params.get("left") || String(Math.max(n - 1, 1));
  const right = params.get("right") || (n > 1 ? String(n) : "draft");
  const pick = (name, value) => h("select", { name, onchange: (e) => {
    const next = new URLSearchParams(params);
    next.set(name, e.target.value);
    navigate(`#/forms?${next}`);
  } }, names.map((k) => h("option", { value: k, selected: k === value }, label(k))));
  const [a, b] = await Promise.all([get(left), get(right)]);
  const published = (k) => (k === "draft" ? "" : `（${ui.formatTime(fetched.get(k)?.published_at)} 发布）`);
  root.append(
    h("div.toolbar", h("a", { href: `#/forms?slug=${encodeURIComponent(slug)}` }, "← 编辑草稿"),
      h("h1", { style: { margin: 0 } }, `${form.title}：版本对比`)),
    h("div.toolbar", "对比 ", pick("left", left), " 与 ", pick("right", right), h("span.muted", `共 ${n} 个已发布版本`)),
    sideBySide(a, b, `${label(left)}${published(left)}`, `${label(right)}${published(right)}`));
}
