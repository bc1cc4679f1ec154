// The questions of one page of a form version as fields: each rendered from the schema and UI hints, its answer
// read and written in `data`, show conditions, calculations and choice filters kept live as answers change.
// The field app's fill screen and the console's preview of a draft both render with it.
import { h } from "../ui.js";
import { concrete, deref, getAt, schemaAt, setAt, shown, split } from "./model.js";
import { allowed, compute } from "./rules.js";
import { render, widgetOf } from "./widgets.js";

// questions: the page's templates; errors: {pointer: detail} shown at their fields; changed(pointer) after an
// answer is set; repaint() after a row of a repeated group is added or removed (the page is drawn again).
// → {body, placed}: the element, and the pointers of `errors` that found their field.
export function paintQuestions(version, questions, data, { errors = {}, changed = () => {}, repaint = () => {} } = {}) {
  const placed = new Set();
  const body = h("div");
  const narrowed = new Map(); // pointer → a choice question's filtered input, rebuilt when its choices change
  const refresh = () => {
    for (const el of body.querySelectorAll(".field")) {
      el.hidden = !shown(version.ui, el.dataset.template, JSON.parse(el.dataset.rows), data);
    }
    for (const out of body.querySelectorAll("output.calc")) out.textContent = calculated(getAt(data, out.dataset.pointer));
    for (const [pointer, entry] of narrowed) {
      const next = entry.build();
      if (next.dataset.choices === entry.input.dataset.choices) continue;
      entry.input.replaceWith(next);
      entry.input = next;
      narrowed.set(pointer, entry);
    }
  };
  const field = (template, rows) => {
    const { node, required } = schemaAt(version.schema, template);
    const hint = version.ui.questions?.[template];
    const pointer = concrete(template, rows);
    const err = h("div.err", { role: "alert" }, errors[pointer] || "");
    if (errors[pointer]) placed.add(pointer);
    const io = { get: () => getAt(data, pointer), set: (v) => {
      setAt(data, pointer, v);
      compute(version.ui, data);
      err.textContent = "";
      changed(pointer);
      refresh();
    } };
    let input;
    if (node.type === "array" && node.items?.type === "object") input = group(template, rows, node);
    else if (node.type === "object" && hint?.widget !== "location" && node.properties && !isPoint(node)) {
      input = h("div.group", Object.keys(node.properties).map((k) => field(`${template}/${k}`, rows)));
    } else if (hint?.calculate) {
      input = h("output.calc", { dataset: { pointer } }, calculated(io.get()));
    } else if (hint?.filter) {
      const build = () => {
        const choices = allowed(version.ui, template, rows, data);
        const el = render(widgetOf(node, hint) || "select", narrow(node, choices), hint, io, pointer);
        el.dataset.choices = JSON.stringify(choices);
        return el;
      };
      input = build();
      narrowed.set(pointer, { input, build });
    } else input = render(widgetOf(node, hint) || (isPoint(node) ? "location" : "text"), node, hint, io, pointer);
    return h(`div.field${errors[pointer] ? ".bad" : ""}`, { dataset: { template, rows: JSON.stringify(rows), pointer } },
      h(`label.q${required ? ".req" : ""}`, node.title || split(template).at(-1)),
      hint?.help ? h("p.help", hint.help) : null, input, err);
  };
  const group = (template, rows, node) => {
    const pointer = concrete(template, rows);
    const items = getAt(data, pointer) || [];
    return h("div", items.map((_, i) => h("div.group",
      h("div.row", h("b.grow", `${node.items.title || "第"} ${i + 1}`), h("button.ghost", { type: "button", onclick: () => {
        items.splice(i, 1); setAt(data, pointer, items); repaint();
      } }, "删除")),
      Object.keys(node.items.properties || {}).filter((k) => !linkOnly(version.schema, node.items.properties[k]))
        .map((k) => field(`${template}/*/${k}`, [...rows, i])))),
    h("button.ghost", { type: "button", onclick: () => {
      setAt(data, pointer, [...items, {}]); repaint();
    } }, `添加${node.items.title || "一项"}`));
  };
  body.append(...questions.map((q) => field(q, [])));
  refresh();
  return { body, placed };
}

// A member row's id (`x-member: "id"`) links the row to the file's member: kept in the answers, never shown or typed.
const linkOnly = (root, declared) => deref(root, declared)["x-member"] === "id";

// A calculated answer as shown (read only): computed as the worker types, sent with the rest, recomputed by the server.
const calculated = (v) => (v === undefined || v === null ? "（待计算）" : String(v));

// The question's schema with only the choices its filter allows now (null: all of them).
function narrow(node, choices) {
  if (!choices) return node;
  const keep = (values) => values.filter((v) => choices.some((c) => JSON.stringify(c) === JSON.stringify(v)));
  if (node.items?.enum) return { ...node, items: { ...node.items, enum: keep(node.items.enum) } };
  return { ...node, enum: keep(node.enum || []) };
}

const isPoint = (node) => node.type === "object" && "latitude" in (node.properties || {});

// The pages of a version: its own, or one page of every question in order.
export function pagesOf(version) {
  if (version.ui.pages?.length) return version.ui.pages;
  const order = version.ui.order || Object.keys(version.schema.properties || {}).map((k) => `/${k}`);
  return [{ title: "", questions: order }];
}

// "/needs/0/item" → "/needs/*/item": numbers inside arrays become the template's stars.
export function templateOf(schema, pointer) {
  let node = schema;
  const out = [];
  for (const s of split(pointer)) {
    if (node?.type === "array") { out.push("*"); node = deref(schema, node.items); } else { out.push(s); node = deref(schema, node?.properties?.[s]); }
  }
  return `/${out.join("/")}`;
}
