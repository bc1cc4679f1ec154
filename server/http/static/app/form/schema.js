// What the checks of each question cannot see, judged on the whole answer as the server judges it (JSON Schema
// 2020-12, @cfworker/json-schema): an author's if/then/else and dependentSchemas (a constraint that holds only in
// some cases), not, dependentRequired and uniqueItems. Each problem at the field's pointer, in the server's words
// (forms/messages.py); the rest stays with check.js, and the server remains the judge.
import { Validator } from "../vendor/json-schema/index.js";
import { deref, escapeKey, split } from "./model.js";

const ALWAYS = new Set(["not", "dependentRequired", "uniqueItems"]);
const CONDITIONAL = /\/(then|else|dependentSchemas)\//;
const LEAVES = new Set(["required", "type", "const", "enum", "minimum", "maximum", "exclusiveMinimum",
  "exclusiveMaximum", "multipleOf", "minLength", "maxLength", "pattern", "minItems", "maxItems", "uniqueItems"]);
const TYPE_NAMES = { string: "文本", integer: "整数", number: "数字", boolean: "是或否", array: "列表",
  object: "一组填写项", null: "空值" };

const validators = new WeakMap();

function validatorOf(schema) {
  // The validator writes resolved references into the schema it is given: a copy, once per form version.
  if (!validators.has(schema)) validators.set(schema, new Validator(structuredClone(schema), "2020-12", false));
  return validators.get(schema);
}

const show = (v) => (typeof v === "string" ? v : JSON.stringify(v));
const quoted = (text) => text.match(/"((?:[^"\\]|\\.)*)"\.?$/)?.[1];

// The title of the answer at a pointer, as the server names it; the whole form is 本表单.
function titleAt(schema, pointer) {
  let node = schema;
  for (const segment of split(pointer)) {
    const row = /^\d+$/.test(segment) && (node?.items || node?.prefixItems);
    node = deref(schema, row ? (node.prefixItems?.[Number(segment)] ?? node.items) : node?.properties?.[segment]);
  }
  return pointer === "" ? "本表单" : node?.title || split(pointer).at(-1);
}

function describe(schema, error, node) {
  const pointer = decodeURI(error.instanceLocation.slice(1)).replace(/%23/g, "#");
  const q = (p) => `「${titleAt(schema, p)}」`;
  switch (error.keyword) {
    case "required":
    case "dependentRequired": { // the missing property is the last one quoted in the validator's message
      const missing = `${pointer}/${escapeKey(quoted(error.error) ?? "")}`;
      return { pointer: missing, detail: `缺少必填项「${titleAt(schema, missing)}」` };
    }
    case "not": return { pointer, detail: `${q(pointer)}的填写不被允许` };
    case "uniqueItems": return { pointer, detail: `${q(pointer)}中有重复的项` };
    case "type": {
      const types = [node.type].flat().map((t) => TYPE_NAMES[t] || t).join("或");
      return { pointer, detail: `${q(pointer)}应为${types}` };
    }
    case "const": return { pointer, detail: `${q(pointer)}只能是 ${show(node.const)}` };
    case "enum": return { pointer, detail: `${q(pointer)}的选项无效` };
    case "minimum": return { pointer, detail: `${q(pointer)}不能小于 ${node.minimum}` };
    case "maximum": return { pointer, detail: `${q(pointer)}不能大于 ${node.maximum}` };
    case "exclusiveMinimum": return { pointer, detail: `${q(pointer)}应大于 ${node.exclusiveMinimum}` };
    case "exclusiveMaximum": return { pointer, detail: `${q(pointer)}应小于 ${node.exclusiveMaximum}` };
    case "multipleOf": return { pointer, detail: `${q(pointer)}应为 ${node.multipleOf} 的倍数` };
    case "minLength": return { pointer, detail: `${q(pointer)}至少要填 ${node.minLength} 个字` };
    case "maxLength": return { pointer, detail: `${q(pointer)}最多只能填 ${node.maxLength} 个字` };
    case "pattern": return { pointer, detail: `${q(pointer)}的填写格式不正确` };
    case "minItems": return { pointer, detail: `${q(pointer)}至少要有 ${node.minItems} 项` };
    default: return { pointer, detail: `${q(pointer)}最多只能有 ${node.maxItems} 项` }; // maxItems
  }
}

// The schema node a keyword error comes from (its keywordLocation without the keyword).
function nodeOf(schema, keywordLocation) {
  let node = schema;
  for (const segment of split(decodeURI(keywordLocation.slice(1))).slice(0, -1)) {
    node = segment === "$ref" ? deref(schema, { $ref: node.$ref }) : node?.[segment];
  }
  return node || {};
}

// [{pointer, detail}]: the answers' problems that only the whole schema shows, one per pointer.
export function schemaProblems(schema, data) {
  const found = new Map();
  for (const error of validatorOf(schema).validate(data).errors) {
    const conditional = CONDITIONAL.test(error.keywordLocation) && LEAVES.has(error.keyword);
    if (!ALWAYS.has(error.keyword) && !conditional) continue;
    const problem = describe(schema, error, nodeOf(schema, error.keywordLocation));
    if (!found.has(problem.pointer)) found.set(problem.pointer, problem);
  }
  return [...found.values()];
}
