// A form version on the phone: its questions by template ("/needs/*/item"), answers read and written by concrete
// pointer ("/needs/0/item"), show conditions evaluated live by the server's own expression evaluator (logic.js,
// the conditions translated as forms.conditions.as_logic does), and the hidden answers left out before sending.
import { evaluate, truthy } from "../logic.js";

export const split = (pointer) => pointer.split("/").slice(1).map((s) => s.replaceAll("~1", "/").replaceAll("~0", "~"));
export const escapeKey = (key) => key.replaceAll("~", "~0").replaceAll("/", "~1"); // a key as a pointer's segment

// A schema node with its leading local $refs ("#/$defs/…") followed, the keywords written beside a $ref kept over
// its target's (a title, an x- binding), as forms/walk.py reads a question.
export function deref(root, node) {
  for (let hops = 0; typeof node?.$ref === "string" && node.$ref.startsWith("#") && hops < 32; hops++) {
    const { $ref, ...beside } = node;
    let target = root;
    for (const s of split($ref.slice(1))) target = target?.[s];
    node = { ...(target && typeof target === "object" ? target : {}), ...beside };
  }
  return node || {};
}

// The schema of a question template, and whether its parent requires it.
export function schemaAt(schema, template) {
  let node = schema, required = false;
  for (const segment of split(template)) {
    if (segment === "*") { node = deref(schema, node.items); required = false; continue; }
    required = (node.required || []).includes(segment);
    node = deref(schema, node.properties?.[segment]);
  }
  return { node, required };
}

export function concrete(template, rows) {
  let i = 0;
  return template.replace(/\*/g, () => String(rows[i++]));
}

export function getAt(data, pointer) {
  let node = data;
  for (const s of split(pointer)) {
    if (node === null || typeof node !== "object" || !(s in node)) return undefined;
    node = node[s];
  }
  return node;
}

const empty = (v) => v === undefined || v === null || v === "" || (Array.isArray(v) && v.length === 0);

export function setAt(data, pointer, value) {
  const path = split(pointer);
  let node = data;
  for (const [k, s] of path.slice(0, -1).entries()) {
    if (node[s] === undefined) node[s] = /^\d+$/.test(path[k + 1]) ? [] : {};
    node = node[s];
  }
  const last = path[path.length - 1];
  if (empty(value) && !Array.isArray(node)) delete node[last];
  else node[last] = value;
}

// The same meaning as forms/conditions.py as_logic.
export function asLogic(c) {
  if ("q" in c) {
    const answer = { var: c.q };
    const op = ["equals", "in", "contains", "answered", "min", "max"].find((o) => o in c);
    const value = c[op];
    if (op === "answered") return { [value ? "!=" : "=="]: [answer, null] };
    return {
      equals: { and: [{ "!=": [answer, null] }, { "==": [answer, value] }] },
      in: { and: [{ "!=": [answer, null] }, { in: [answer, value] }] },
      contains: { and: [{ "!!": [{ count: [answer] }] }, { in: [value, answer] }] },
      min: { "!!": [{ ">=": [answer, value] }] },
      max: { "!!": [{ "<=": [answer, value] }] },
    }[op];
  }
  if ("all" in c) return { "!!": [{ and: c.all.map(asLogic) }] };
  if ("any" in c) return { "!!": [{ or: c.any.map(asLogic) }] };
  return { "!": [asLogic(c.not)] };
}

// Shown when the question's own condition and those of every group above it hold.
export function shown(ui, template, rows, data) {
  const segments = template.split("/");
  for (let k = 2; k <= segments.length; k++) {
    const prefix = segments.slice(0, k).join("/");
    const show = ui.questions?.[prefix]?.show;
    if (!show) continue;
    const own = rows.slice(0, prefix.split("*").length - 1);
    if (!truthy(evaluate(asLogic(show), data, own, {}, prefix))) return false;
  }
  return true;
}

// Every answered question of the data, by template and rows, depth first.
export function* answers(schema, data, template = "", rows = [], root = schema) {
  if (data === null || typeof data !== "object") return;
  if (Array.isArray(data)) {
    const items = deref(root, schema.items);
    if (items.type === "object") {
      for (const [i, row] of data.entries()) yield* answers(items, row, `${template}/*`, [...rows, i], root);
    }
    return;
  }
  for (const [name, value] of Object.entries(data)) {
    if (!schema.properties?.[name]) continue;
    const child = deref(root, schema.properties[name]);
    const t = `${template}/${escapeKey(name)}`;
    yield { template: t, rows, value, schema: child };
    if (child.type === "object" && !isLeafObject(child)) yield* answers(child, value, t, rows, root);
    if (child.type === "array") yield* answers(child, value, t, rows, root);
  }
}

const isLeafObject = (s) => !s.properties || Object.values(s.properties).every((p) => p.type !== "object" && p.type !== "array");

// The data without the answers of hidden questions (the server refuses those), a copy.
export function withoutHidden(ui, schema, data) {
  const copy = structuredClone(data);
  const hidden = [...answers(schema, copy)].filter((a) => !shown(ui, a.template, a.rows, copy));
  for (const a of hidden.reverse()) setAt(copy, concrete(a.template, a.rows), undefined);
  return copy;
}

// Each photo (or signature) answer with its pointer, for the submission's attachments.
export function photos(ui, schema, data) {
  const found = [];
  for (const a of answers(schema, data)) {
    const widget = ui.questions?.[a.template]?.widget;
    if (widget !== "photo" && widget !== "signature") continue;
    const pointer = concrete(a.template, a.rows);
    if (typeof a.value === "string") found.push({ sha256: a.value, pointer });
    else if (Array.isArray(a.value)) a.value.forEach((v, i) => found.push({ sha256: v, pointer: `${pointer}/${i}` }));
  }
  return found;
}

export { empty };
