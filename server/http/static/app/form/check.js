// What the phone checks before sending, with the server's kind of Chinese messages at each field: required while
// shown, lengths, patterns and formats (an ID number's check digit above all), bounds and counts. The server stays
// the judge; its 422 lands at the same fields.
import { formatProblem } from "./formats.js";
import { concrete, empty, getAt, schemaAt, shown, withoutHidden } from "./model.js";
import { compute, failedChecks } from "./rules.js";
import { schemaProblems } from "./schema.js";

const FORMAT_SUBJECTS = { "cn-id-number": "身份证号" };

function patternHolds(pattern, value) {
  try {
    return new RegExp(pattern, "u").test(value);
  } catch {
    return true; // a pattern this browser cannot read: the server judges it
  }
}

export function checkQuestion(ui, schema, template, rows, data) {
  if (!shown(ui, template, rows, data)) return null;
  const { node, required } = schemaAt(schema, template);
  const value = getAt(data, concrete(template, rows));
  if (empty(value)) {
    if (required) return node.type === "array" ? `「${node.title || ""}」至少需要 ${node.minItems || 1} 项` : "此题必填";
    return null;
  }
  if (typeof value === "string") {
    if (node.minLength && [...value].length < node.minLength) return `至少填写 ${node.minLength} 个字`;
    if (node.maxLength && [...value].length > node.maxLength) return `最多填写 ${node.maxLength} 个字`;
    if (node.pattern && !patternHolds(node.pattern, value)) return "填写格式不正确";
    // An ID number shown masked (430102********1245) is the file's own, left as it is: the server keeps the whole.
    const problem = node.format === "cn-id-number" && value.includes("*") ? null : formatProblem(node.format, value);
    if (problem) return `${FORMAT_SUBJECTS[node.format] || ""}${problem}`;
  }
  if (typeof value === "number") {
    if (node.type === "integer" && !Number.isInteger(value)) return "应为整数";
    if (node.minimum !== undefined && value < node.minimum) return `不能小于 ${node.minimum}`;
    if (node.maximum !== undefined && value > node.maximum) return `不能大于 ${node.maximum}`;
    if (node.exclusiveMinimum !== undefined && value <= node.exclusiveMinimum) return `应大于 ${node.exclusiveMinimum}`;
    if (node.exclusiveMaximum !== undefined && value >= node.exclusiveMaximum) return `应小于 ${node.exclusiveMaximum}`;
  }
  if (Array.isArray(value)) {
    if (node.minItems && value.length < node.minItems) return `至少需要 ${node.minItems} 项`;
    if (node.maxItems && value.length > node.maxItems) return `最多 ${node.maxItems} 项`;
  }
  if (node.type === "object" && node.required) {
    const missing = node.required.filter((k) => empty(value[k]));
    if (missing.length) return "此题未填完整";
  }
  return null;
}

// Every error of the whole form: [{pointer, detail, page}]; with `across`, the checks across questions and what only
// the whole schema shows (schema.js) too, on the answers as they will be sent: hidden ones left out, calculations
// computed on what remains.
export function checkAll(version, pages, data, across = false) {
  const errors = [];
  pages.forEach((page, p) => {
    for (const template of page.questions) visit(template, [], p);
  });
  function visit(template, rows, page) {
    const detail = checkQuestion(version.ui, version.schema, template, rows, data);
    if (detail) errors.push({ pointer: concrete(template, rows), detail, page });
    const { node } = schemaAt(version.schema, template);
    const value = getAt(data, concrete(template, rows));
    if (node.type === "array" && node.items?.type === "object" && Array.isArray(value) &&
        shown(version.ui, template, rows, data)) {
      value.forEach((_, i) => {
        for (const name of Object.keys(node.items.properties || {})) visit(`${template}/*/${name}`, [...rows, i], page);
      });
    }
  }
  if (across) {
    const sent = compute(version.ui, withoutHidden(version.ui, version.schema, data));
    const problems = [...failedChecks(version.ui, sent), ...schemaProblems(version.schema, sent)];
    for (const { pointer, detail, template } of problems) {
      if (errors.some((e) => e.pointer === pointer)) continue;
      errors.push({ pointer, detail, page: pageOf(pages, template ?? pointer.replace(/\/\d+(?=\/|$)/g, "/*")) });
    }
  }
  return errors;
}

// The page that asks a question template ("/members/*/school"); the first for the whole form.
function pageOf(pages, template) {
  const page = pages.findIndex((pg) => pg.questions.some((q) => template === q || template.startsWith(`${q}/`)));
  return Math.max(page, 0);
}
