// The structured editor of a draft: pages, then one card per question (kind, title, required, choices, help, show
// condition, binding, page) with its rows' questions inside a repeated group. Each card carries the JSON pointers
// the server's refusals use (/schema/properties/…, /ui/questions/…), so showProblem puts them at the question.
import { h } from "../ui.js";
import * as M from "./model.js";

// def: the definition, edited in place; changed(structural): after every edit (structural: draw the editor again).
// catalogue: [{code, name, items: [{code, name, retired}]}], offered where a binding takes a service item's code.
export function editor(def, { changed, readOnly = false, catalogue = [] }) {
  const all = M.allQuestions(def);
  const root = h("div", { class: "editor" });
  root.append(h("datalist", { id: "catalogue-items" }, catalogue.flatMap((c) => c.items.filter((i) => !i.retired)
    .map((i) => h("option", { value: i.code }, `${c.name}·${i.name}`)))));
  root.append(pagesCard(def, changed, readOnly));
  const list = h("div", { dataset: { pointer: "/schema" } });
  for (const q of M.questionsOf(def)) list.append(card(def, q, all, changed, readOnly));
  root.append(list);
  if (!readOnly) root.append(h("div.toolbar", addButtons(def, def.schema, "", changed)));
  if (readOnly) for (const el of root.querySelectorAll("input, select, textarea, button")) el.disabled = true;
  return root;
}

function addButtons(def, parent, template, changed) {
  const kind = h("select", { "aria-label": "新题目的题型" }, Object.entries(M.KINDS)
    .filter(([k]) => !(template && k === "group")).map(([k, v]) => h("option", { value: k }, v.label)));
  return [kind, h("button", { type: "button", class: "ghost", onclick: () => {
    M.add(def, parent, template, kind.value);
    changed(true);
  } }, template ? "在本组添加题目" : "添加题目")];
}

function pagesCard(def, changed, readOnly) {
  const pages = def.ui?.pages || [];
  const box = h("div", { class: "card pages", dataset: { pointer: "/ui/pages" } }, h("h3", "分页"));
  if (!pages.length) {
    box.append(h("p.muted", "全部题目在一页。"), readOnly ? null : h("button", { type: "button", class: "ghost small", onclick: () => {
      def.ui ||= {};
      def.ui.pages = [{ title: "第 1 页", questions: Object.keys(def.schema.properties || {}).map((k) => `/${M.esc(k)}`) }];
      delete def.ui.order;
      changed(true);
    } }, "分页"));
    return box;
  }
  pages.forEach((page, i) => box.append(h("div", { class: "toolbar", dataset: { pointer: `/ui/pages/${i}` } },
    h("span", `第 ${i + 1} 页`),
    h("input", { type: "text", name: `page-${i}-title`, value: page.title || "", placeholder: "页标题",
      oninput: (e) => { page.title = e.target.value; changed(false); } }),
    h("span.muted", `${page.questions.length} 题`),
    h("button", { type: "button", class: "ghost small", onclick: () => {
      const [gone] = pages.splice(i, 1);
      if (pages.length) pages[Math.max(i - 1, 0)].questions.push(...gone.questions);
      else delete def.ui.pages;
      M.sortPages(def);
      changed(true);
    } }, "删除此页"))));
  box.append(h("button", { type: "button", class: "ghost small", onclick: () => {
    pages.push({ title: `第 ${pages.length + 1} 页`, questions: [] });
    changed(true);
  } }, "添加一页"));
  return box;
}

function card(def, q, all, changed, readOnly) {
  const kind = M.KINDS[q.kind];
  const el = h("div", { class: "card question", dataset: { pointer: q.pointer, template: q.template } });
  const title = h("input", { type: "text", name: `${q.template}:title`, value: q.node.title || "", placeholder: "题目",
    class: "grow", oninput: (e) => { q.node.title = e.target.value; changed(false); } });
  const name = h("input", { type: "text", name: `${q.template}:name`, value: q.name, size: 12, title: "代号：数据中的键名，发布后不宜再改",
    onchange: (e) => {
      const next = e.target.value.trim();
      if (!/^[a-z][a-z0-9_]*$/.test(next) || next in q.parent.properties) { e.target.value = q.name; return; }
      M.rename(def, q, next);
      changed(true);
    } });
  const kindSelect = h("select", { name: `${q.template}:kind`, onchange: (e) => { M.setKind(def, q, e.target.value); changed(true); } },
    Object.entries(M.KINDS).filter(([k]) => !(q.group && k === "group"))
      .map(([k, v]) => h("option", { value: k, selected: k === q.kind }, v.label)));
  const required = h("label.inline", h("input", { type: "checkbox", name: `${q.template}:required`, checked: M.isRequired(q),
    onchange: (e) => { M.setRequired(q, e.target.checked); changed(false); } }), "必填");
  el.append(h("div.toolbar", h("b", q.group ? "　↳" : ""), title, kindSelect, required, name,
    readOnly ? null : [
      h("button", { type: "button", class: "ghost small", title: "上移", onclick: () => { M.move(def, q, -1); changed(true); } }, "↑"),
      h("button", { type: "button", class: "ghost small", title: "下移", onclick: () => { M.move(def, q, 1); changed(true); } }, "↓"),
      h("button", { type: "button", class: "ghost small", onclick: () => { M.remove(def, q); changed(true); } }, "删除")]));

  const rows = h("div.grid.two");
  if (kind?.choices) rows.append(choicesEditor(def, q, changed));
  rows.append(h("label", "说明", h("input", { type: "text", name: `${q.template}:help`, value: q.hint.help || "",
    oninput: (e) => { const hint = M.hintOf(def, q.template); if (e.target.value) hint.help = e.target.value; else delete hint.help;
      M.tidyHint(def, q.template); changed(false); } })));
  rows.append(showEditor(def, q, all, changed));
  const binding = bindingEditor(q, changed);
  if (binding) rows.append(binding);
  if (!q.group && def.ui?.pages?.length) {
    const at = M.pageIndexOf(def, q.template);
    rows.append(h("label", "所在页", h("select", { name: `${q.template}:page`, onchange: (e) => {
      M.setPage(def, q.template, Number(e.target.value)); changed(true);
    } }, h("option", { value: "-1" }, "（不在任何页）"), def.ui.pages.map((p, i) => h("option", { value: String(i), selected: i === at },
      `第 ${i + 1} 页 ${p.title || ""}`)))));
  }
  // The server's refusals about the hints of this question land here.
  el.append(rows, h("div", { dataset: { pointer: q.hintKey } }));
  if (q.children) {
    const inner = h("div", { class: "rows" }, h("div.toolbar", h("b", "每行的题目"),
      h("label.inline", "行名", h("input", { type: "text", value: q.node.items.title || "", name: `${q.template}:row-title`,
        oninput: (e) => { q.node.items.title = e.target.value; changed(false); } }))));
    for (const child of q.children) inner.append(card(def, child, all, changed, readOnly));
    if (!readOnly) inner.append(h("div.toolbar", addButtons(def, q.node.items, `${q.template}/*`, changed)));
    el.append(inner);
  }
  return el;
}

// One choice a line: "值 标签" (the value is stored, the label shown).
function choicesEditor(def, q, changed) {
  const text = M.choicesOf(q).map(([v, l]) => `${typeof v === "string" ? v : JSON.stringify(v)}${l ? ` ${l}` : ""}`).join("\n");
  const number = ["number", "integer"].includes((q.node.items || q.node).type);
  return h("label", { dataset: { pointer: `${q.pointer}/enum` } }, "选项（每行一个：值 标签）",
    h("textarea", { name: `${q.template}:choices`, rows: 3, value: text, onchange: (e) => {
      const pairs = e.target.value.split("\n").map((line) => line.trim()).filter(Boolean).map((line) => {
        const [value, ...label] = line.split(/\s+/);
        return [number && !Number.isNaN(Number(value)) ? Number(value) : value, label.join(" ")];
      });
      M.setChoices(def, q, pairs);
      changed(false);
    } }));
}

const OPERATORS = { equals: "等于", in: "属于（逗号分隔）", contains: "包含（多选题）", answered: "已填写", min: "不小于", max: "不大于" };

// A show condition: a single test on one answer in fields; anything more (all/any/not) as JSON.
function showEditor(def, q, all, changed) {
  const show = q.hint.show;
  const box = h("div", { class: "show", dataset: { pointer: `${q.hintKey}/show` } }, h("span", "显示条件 "));
  const set = (value) => {
    const hint = M.hintOf(def, q.template);
    if (value === undefined) delete hint.show; else hint.show = value;
    M.tidyHint(def, q.template);
    changed(false);
  };
  if (show && !("q" in show)) {
    box.append(h("textarea", { class: "code", rows: 3, name: `${q.template}:show-json`, value: JSON.stringify(show),
      style: { minHeight: "4rem" }, onchange: (e) => { try { set(JSON.parse(e.target.value)); } catch { e.target.classList.add("bad"); } } }));
    return box;
  }
  const others = all.filter((o) => o.template !== q.template && o.kind !== "group" && (!o.group || o.group === q.group));
  const target = h("select", { name: `${q.template}:show-q` }, h("option", { value: "" }, "始终显示"),
    others.map((o) => h("option", { value: o.template, selected: show?.q === o.template }, `${o.node.title || o.name}（${o.template}）`)));
  const op = Object.keys(OPERATORS).find((o) => show && o in show) || "equals";
  const operator = h("select", { name: `${q.template}:show-op` },
    Object.entries(OPERATORS).map(([k, v]) => h("option", { value: k, selected: k === op }, v)));
  const shown = show ? show[op] : "";
  const list = `${q.template}:show-values`;
  const value = h("input", { type: "text", name: `${q.template}:show-value`, size: 10, list,
    value: shown === undefined || shown === "" ? "" : Array.isArray(shown) ? shown.join(",") : String(shown) });
  const values = h("datalist", { id: list });
  const fillValues = () => {
    const o = others.find((x) => x.template === target.value);
    values.replaceChildren(...(o ? (o.kind === "boolean" ? [[true, "是"], [false, "否"]] : M.choicesOf(o)) : [])
      .map(([v, l]) => h("option", { value: String(v) }, l)));
  };
  const update = () => {
    fillValues();
    if (!target.value) return set(undefined);
    const o = others.find((x) => x.template === target.value);
    const typed = (raw) => {
      const t = (o?.node.items || o?.node || {}).type;
      if (t === "boolean") return raw === "true" || raw === "是";
      if ((t === "number" || t === "integer" || ["min", "max"].includes(operator.value)) && raw !== "" && !Number.isNaN(Number(raw))) return Number(raw);
      return raw;
    };
    const raw = value.value.trim();
    const v = operator.value === "answered" ? raw !== "false" && raw !== "否"
      : operator.value === "in" ? raw.split(/[,，]/).map((s) => typed(s.trim())).filter((s) => s !== "") : typed(raw);
    set({ q: target.value, [operator.value]: v });
  };
  const toggle = () => { for (const el of [operator, value]) el.hidden = !target.value; };
  toggle();
  target.addEventListener("change", toggle);
  for (const el of [target, operator]) el.addEventListener("change", update);
  value.addEventListener("change", update);
  fillValues();
  box.append(target, " ", operator, " ", value, values,
    h("button", { type: "button", class: "ghost small", title: "写成 JSON（全部、任一、非）", onclick: () => {
      set(show ? { all: [show] } : { all: [] }); changed(true);
    } }, "组合条件"));
  return box;
}

function bindingEditor(q, changed) {
  const options = M.bindingOptions(q);
  const current = M.bindingOf(q.node);
  if (!options.length && !current) return null;
  const key = (o) => `${o.keyword}=${o.free ? "" : JSON.stringify(o.value)}`;
  const selectedKey = current ? (options.find((o) => o.keyword === current.keyword && (o.free || o.value === current.value))
    ? key(options.find((o) => o.keyword === current.keyword && (o.free || o.value === current.value))) : "other") : "";
  const free = h("input", { type: "text", name: `${q.pointer}:binding-value`, placeholder: "如 elderly.meal_shopping", size: 22,
    list: "catalogue-items",
    value: current && options.find((o) => o.free && o.keyword === current.keyword) ? String(current.value) : "",
    hidden: !options.some((o) => o.free && key(o) === selectedKey),
    onchange: (e) => { M.setBinding(q.node, current?.keyword || "x-need-item", e.target.value.trim()); changed(false); } });
  const select = h("select", { name: `${q.pointer}:binding`, onchange: (e) => {
    const o = options.find((x) => key(x) === e.target.value);
    if (!o) M.setBinding(q.node, null);
    else M.setBinding(q.node, o.keyword, o.free ? free.value.trim() : o.value);
    changed(true);
  } }, h("option", { value: "" }, "不绑定"),
  current && selectedKey === "other" ? h("option", { value: "other", selected: true }, `${current.keyword}: ${JSON.stringify(current.value)}`) : null,
  options.map((o) => h("option", { value: key(o), selected: key(o) === selectedKey }, o.label)));
  const keyword = current?.keyword || "x-situation";
  return h("label", { dataset: { pointer: `${q.pointer}/${keyword}` } }, "绑定到户档案", select, free);
}
