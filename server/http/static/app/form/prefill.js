// Answers a form starts from for a household the phone holds (its synced file), offline: what forms/prefill.py
// gives on the server, held to it by one table of vectors (tests/forms/prefill_vectors.json) run in both.
// A question marked `prefill: true` starts from the file through its binding: an `x-situation` question from the
// situation as last seen (address, phone and head's name from the household when the situation has none), the
// `x-members` rows from the members, one row each with its `id`, so that the bindings carry every change back to the
// same member. Only values the question can hold are given; ID numbers never (the phone holds them masked). A ledger's
// rows are for the members its `prefill_members` expression holds for (the member's fields and `today` by name).
import { evaluate, jsonEqual, truthy } from "../logic.js";
import { deref, escapeKey, split } from "./model.js";
import { rfc3339 } from "./widgets.js";

const FROM_HOUSEHOLD = { address: "address", phone: "phone", head_name: "head" };
const NOT_PREFILLED = new Set(["id_number"]);

export function prefill(version, household, today = rfc3339(new Date()).slice(0, 10)) {
  const { schema, ui } = version;
  const answers = {};
  const members = membersTemplate(schema);
  for (const [template, hint] of Object.entries(ui?.questions || {})) {
    if (hint?.prefill !== true) continue;
    const q = question(schema, template);
    if (!q) continue;
    const target = keyword(q, "x-situation");
    if (typeof target === "string") {
      let value = (household.situation || {})[target];
      if ((value === undefined || value === null) && target in FROM_HOUSEHOLD) value = household[FROM_HOUSEHOLD[target]];
      if (fits(q.node, value)) put(answers, template, value);
    } else if (template === members) {
      const keep = hint.prefill_members;
      const chosen = (household.members || []).filter((member) => keep === undefined
        || truthy(evaluate(keep, {}, [], { ...member, today }, "")));
      put(answers, template, chosen.map((member) => memberRow(schema, q, member)));
    }
  }
  return answers;
}

export function fits(node, value) {
  if (value === undefined || value === null) return false;
  const choices = choicesOf(node);
  if (choices !== null && node.type !== "array") return choices.some((c) => jsonEqual(value, c));
  const types = typeof node.type === "string" ? [node.type] : Array.isArray(node.type) ? node.type : [];
  if (!types.length) return true;
  const kind = typeof value === "boolean" ? "boolean" : typeof value === "string" ? "string"
    : typeof value === "number" ? (Number.isInteger(value) ? "integer" : "number")
    : Array.isArray(value) ? "array" : typeof value === "object" ? "object" : null;
  return types.includes(kind) || (kind === "integer" && types.includes("number"));
}

// The allowed values of a choice question (enum, const, oneOf/anyOf of consts; an array's items'), else null.
function choicesOf(node) {
  if (node.type === "array" && node.items && typeof node.items === "object") return choicesOf(node.items);
  if (Array.isArray(node.enum)) return node.enum;
  if ("const" in node) return [node.const];
  for (const key of ["oneOf", "anyOf"]) {
    const options = node[key];
    if (Array.isArray(options) && options.length && options.every((o) => o && typeof o === "object" && "const" in o)) {
      return options.map((o) => o.const);
    }
  }
  return null;
}

function memberRow(schema, rows, member) {
  const row = {};
  const tags = member.tags || [];
  const item = deref(schema, rows.node.items);
  for (const [name, declared] of Object.entries(item.properties || {})) {
    const q = { declared, node: deref(schema, declared) };
    const field = keyword(q, "x-member");
    const tag = keyword(q, "x-member-tag");
    if (typeof field === "string" && !NOT_PREFILLED.has(field)) {
      const value = field === "tags" ? tags.filter((t) => (choicesOf(q.node) || []).includes(t)) : member[field];
      if (fits(q.node, value)) row[name] = value;
    }
    if (typeof tag === "string") row[name] = tags.includes(tag);
  }
  return row;
}

// The first array of member rows, depth first in the order the schema declares them, as forms/bindings.py finds it.
function membersTemplate(schema, node = schema, template = "") {
  for (const [name, declared] of Object.entries(node.properties || {})) {
    const t = `${template}/${escapeKey(name)}`;
    const q = { declared, node: deref(schema, declared) };
    if (keyword(q, "x-members") === true) return t;
    const inner = q.node.type === "array" ? deref(schema, q.node.items) : q.node;
    const found = inner.properties ? membersTemplate(schema, inner, q.node.type === "array" ? `${t}/*` : t) : null;
    if (found) return found;
  }
  return null;
}

function question(schema, template) {
  let node = schema, declared = schema;
  for (const segment of split(template)) {
    if (segment === "*") { if (node.type !== "array") return null; declared = node.items; }
    else { declared = node.properties?.[segment]; }
    if (!declared) return null;
    node = deref(schema, declared);
  }
  return { declared, node };
}

// An x- keyword written beside a $ref, or in its target.
const keyword = (q, name) => (name in q.declared ? q.declared[name] : q.node[name]);

function put(answers, template, value) {
  const segments = split(template);
  let node = answers;
  for (const s of segments.slice(0, -1)) node = node[s] ??= {};
  node[segments[segments.length - 1]] = value;
}
