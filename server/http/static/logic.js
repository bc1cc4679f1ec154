// Doorstep's form expressions on the phone: the strict JSON Logic subset of forms/logic.py, with the same meaning.
// Both are held to one table of vectors (tests/forms/logic_vectors.json); read forms/logic.py for the rules.
// An ES module with no dependencies: import { evaluate } from "/static/logic.js".

const SAFE = 2 ** 53;
const NOTHING = Symbol("nothing");
const ARITY = {"!": [1, 1], "!!": [1, 1], "/": [2, 2], age: [2, 2], in: [2, 2], "==": [2, 2], "!=": [2, 2],
  "<": [2, 3], "<=": [2, 3], ">": [2, 2], ">=": [2, 2], "-": [1, 2], round: [1, 2], if: [1, 99]};

export const OPERATORS = ["var", "==", "!=", "<", "<=", ">", ">=", "and", "or", "!", "!!", "if", "+", "-", "*",
  "/", "round", "sum", "count", "min", "max", "age", "in"];

const isNumber = (v) => typeof v === "number";
const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);

export function truthy(v) {
  return !(v === null || v === undefined || v === false || v === "" || v === 0 ||
    (Array.isArray(v) && v.length === 0));
}

export function jsonEqual(a, b) {
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  }
  if (isObject(a) || isObject(b)) {
    if (!isObject(a) || !isObject(b)) return false;
    const ka = Object.keys(a), kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k], b[k]));
  }
  return a === b;
}

function number(v) {
  return Number.isFinite(v) ? (Object.is(v, -0) ? 0 : v) : null;
}

function unescape(token) {
  return token.replaceAll("~1", "/").replaceAll("~0", "~");
}

function read(data, segments, i, rows, bound) {
  for (; i < segments.length; i++) {
    const segment = segments[i];
    if (segment === "*") {
      if (!Array.isArray(data)) return NOTHING;
      if (bound < rows.length) {
        if (rows[bound] >= data.length) return NOTHING;
        data = data[rows[bound]];
        bound += 1;
      } else {
        return data.map((item) => read(item, segments, i + 1, rows, bound + 1))
          .filter((v) => v !== NOTHING && v !== null);
      }
    } else if (isObject(data) && Object.hasOwn(data, segment)) {
      data = data[segment];
    } else {
      return NOTHING;
    }
  }
  return data;
}

function flat(values) {
  const out = [];
  for (const v of values) {
    if (Array.isArray(v)) out.push(...v.filter((x) => x !== null));
    else if (v !== null) out.push(v);
  }
  return out;
}

export function parseDate(value) {
  const m = typeof value === "string" && /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  return mo >= 1 && mo <= 12 && d >= 1 && d <= days[mo - 1] ? [y, mo, d] : null;
}

const before = (a, b) => a[0] !== b[0] ? a[0] < b[0] : a[1] !== b[1] ? a[1] < b[1] : a[2] < b[2];

function compare(values, test) {
  const comparable = values.every(isNumber) || values.every((v) => typeof v === "string");
  if (!comparable) return null;
  return values.slice(1).every((b, i) => test(values[i], b));
}

function numbers(values, combine) {
  return values.every(isNumber) ? number(combine(values)) : null;
}

function roundHalfAway(x, digits) {
  // toFixed rounds the exact binary value, ties away from zero: Python's Decimal ROUND_HALF_UP does the same.
  if (!isNumber(x) || !Number.isFinite(x)) return null;
  return number(Number(x.toFixed(digits)));
}

function aggregate(kind, values) {
  values = flat(values);
  if (kind === "count") return values.length;
  if (!values.every(isNumber)) return null;
  if (kind === "sum") return number(values.reduce((a, b) => a + b, 0));
  if (!values.length) return null;
  return number(kind === "min" ? Math.min(...values) : Math.max(...values));
}

export class LogicError extends Error {}

// How many `*`s of `template` take the owner's rows: those on the owner's own path; the rest fan out.
export function boundStars(template, owner) {
  const segments = template.split("/"), own = owner.split("/");
  let bound = 0;
  for (let k = 0; k < segments.length; k++) {
    if (segments[k] !== "*") continue;
    if (segments.slice(0, k + 1).join("/") !== own.slice(0, k + 1).join("/")) break;
    bound += 1;
  }
  return bound;
}

// The value of `expression` for the question `owner` (a template such as "/members/*/age"), whose `*`s `rows` fill.
export function evaluate(expression, data, rows = [], context = {}, owner = "") {
  const ev = (e) => evaluate(e, data, rows, context, owner);
  if (Array.isArray(expression)) return expression.map(ev);
  if (!isObject(expression)) return expression;
  const keys = Object.keys(expression);
  if (keys.length !== 1) throw new LogicError("表达式的每个对象只能有一个运算符");
  const op = keys[0];
  if (!OPERATORS.includes(op)) throw new LogicError(`未知的运算符「${op}」`);
  let args = expression[op];
  if (op === "var") {
    const [name, fallback] = Array.isArray(args) ? [args[0], args.length > 1 ? args[1] : null] : [args, null];
    if (typeof name !== "string") throw new LogicError("var 应为题目路径");
    if (!name.startsWith("/")) return Object.hasOwn(context, name) ? context[name] : fallback;
    const found = read(data, name.slice(1).split("/").map(unescape), 0, rows.slice(0, boundStars(name, owner)), 0);
    return found === NOTHING ? fallback : found;
  }
  if (!Array.isArray(args)) args = [args];
  const [low, high] = ARITY[op] || [1, 999];
  if (args.length < low || args.length > high) throw new LogicError(`运算符「${op}」的参数个数不对`);
  const lazy = (i) => ev(args[i]);
  switch (op) {
    case "and": case "or": {
      let value = null;
      for (let i = 0; i < args.length; i++) {
        value = lazy(i);
        if (truthy(value) === (op === "or")) return value;
      }
      return value;
    }
    case "if": {
      let i = 0;
      for (; i + 1 < args.length; i += 2) if (truthy(lazy(i))) return lazy(i + 1);
      return i < args.length ? lazy(i) : null;
    }
    default:
  }
  const v = args.map(ev);
  switch (op) {
    case "==": return jsonEqual(v[0], v[1]);
    case "!=": return !jsonEqual(v[0], v[1]);
    case "<": return compare(v, (a, b) => a < b);
    case "<=": return compare(v, (a, b) => a <= b);
    case ">": return compare(v, (a, b) => a > b);
    case ">=": return compare(v, (a, b) => a >= b);
    case "!": return !truthy(v[0]);
    case "!!": return truthy(v[0]);
    case "+": return numbers(v, (n) => n.reduce((a, b) => a + b, 0));
    case "*": return numbers(v, (n) => n.reduce((a, b) => a * b, 1));
    case "-": return numbers(v, (n) => n.length === 1 ? -n[0] : n[0] - n[1]);
    case "/": return numbers(v, (n) => n[1] === 0 ? null : n[0] / n[1]);
    case "round": {
      const digits = v.length > 1 ? v[1] : 0;
      if (!Number.isInteger(digits) || digits < 0 || digits > 6) throw new LogicError("round 的位数应为 0 到 6 的整数");
      return roundHalfAway(v[0], digits);
    }
    case "sum": case "count": case "min": case "max": return aggregate(op, v);
    case "age": {
      const born = parseDate(v[0]), at = parseDate(v[1]);
      if (!born || !at || before(at, born)) return null;
      return at[0] - born[0] - (before([0, at[1], at[2]], [0, born[1], born[2]]) ? 1 : 0);
    }
    case "in":
      if (Array.isArray(v[1])) return v[1].some((x) => jsonEqual(v[0], x));
      return typeof v[0] === "string" && typeof v[1] === "string" && v[1].includes(v[0]);
    default: throw new LogicError(`未知的运算符「${op}」`);
  }
}

export { SAFE };
