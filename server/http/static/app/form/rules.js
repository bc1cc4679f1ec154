// What a form computes and checks beyond its schema, on the phone, as forms/computing.py does on the server and
// with the same expression evaluator (logic.js): calculated answers, choice filters, checks across questions.
import { evaluate, jsonEqual, truthy } from "../logic.js";
import { concrete, getAt, setAt, shown, split } from "./model.js";

const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);

// The rows of every object in `data` that holds the template's last segment (answered or not).
export function rowsOf(data, template) {
  let level = [[data, []]];
  for (const s of split(template).slice(0, -1)) {
    const below = [];
    for (const [node, rows] of level) {
      if (s === "*") { if (Array.isArray(node)) node.forEach((item, i) => below.push([item, [...rows, i]])); }
      else if (isObject(node) && s in node) below.push([node[s], rows]);
    }
    level = below;
  }
  return level.filter(([node]) => isObject(node)).map(([, rows]) => rows);
}

const hinted = (ui, key) => Object.entries(ui.questions || {}).filter(([, hint]) => hint && key in hint);

// The choices allowed now at one question: a list, or null for all of them.
export function allowed(ui, template, rows, data) {
  const filter = ui.questions?.[template]?.filter;
  if (filter === undefined) return null;
  const choices = evaluate(filter, data, rows, {}, template);
  return Array.isArray(choices) ? choices : null;
}

const permitted = (choices, value) => choices.some((c) => jsonEqual(c, value));

// Computes every calculated answer into `data` (left out when null or hidden) and clears the answers their
// filter no longer allows. Calculations may read each other in any order: passes repeat until nothing changes.
export function compute(ui, data) {
  const calculations = hinted(ui, "calculate");
  for (let pass = 0; pass <= calculations.length; pass++) {
    let changed = false;
    for (const [template, hint] of calculations) {
      for (const rows of rowsOf(data, template)) {
        const pointer = concrete(template, rows);
        let value = evaluate(hint.calculate, data, rows, {}, template);
        if (value !== null && !shown(ui, template, rows, data)) value = null;
        const before = getAt(data, pointer);
        if ((before === undefined && value === null) || (before !== undefined && jsonEqual(before, value))) continue;
        setAt(data, pointer, value === null ? undefined : value);
        changed = true;
      }
    }
    if (!changed) break;
  }
  for (const [template] of hinted(ui, "filter")) {
    for (const rows of rowsOf(data, template)) {
      const pointer = concrete(template, rows);
      const answer = getAt(data, pointer);
      const choices = allowed(ui, template, rows, data);
      if (answer === undefined || !choices) continue;
      if (Array.isArray(answer)) {
        const kept = answer.filter((v) => permitted(choices, v));
        if (kept.length !== answer.length) setAt(data, pointer, kept.length ? kept : undefined);
      } else if (!permitted(choices, answer)) setAt(data, pointer, undefined);
    }
  }
  return data;
}

// The checks across questions that come out false, each with the designer's message at its question:
// [{pointer, template, detail}]. A check applies once its question is answered; a null result does not apply.
export function failedChecks(ui, data) {
  const failed = [];
  for (const check of ui.checks || []) {
    for (const rows of rowsOf(data, check.pointer)) {
      const pointer = concrete(check.pointer, rows);
      if (getAt(data, pointer) === undefined) continue;
      const value = evaluate(check.rule, data, rows, {}, check.pointer);
      if (value !== null && !truthy(value)) failed.push({ pointer, template: check.pointer, detail: check.message });
    }
  }
  return failed;
}
