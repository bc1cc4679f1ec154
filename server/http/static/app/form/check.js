// What the phone checks before sending, with the server's kind of Chinese messages at each field: required while
// shown, lengths, bounds and counts. The server stays the judge; its 422 lands at the same fields.
import { concrete, empty, getAt, schemaAt, shown } from "./model.js";

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
  }
  if (typeof value === "number") {
    if (node.type === "integer" && !Number.isInteger(value)) return "应为整数";
    if (node.minimum !== undefined && value < node.minimum) return `不能小于 ${node.minimum}`;
    if (node.maximum !== undefined && value > node.maximum) return `不能大于 ${node.maximum}`;
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

// Every error of the whole form: [{pointer, detail, page}].
export function checkAll(version, pages, data) {
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
  return errors;
}
