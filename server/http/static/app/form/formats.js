// The formats the server asserts (forms/formats.py), checked on the phone so that a mistyped ID number or mobile
// number is caught at the doorstep, not at upload back in town. Both are held to one table of vectors
// (tests/forms/format_vectors.json). Each gives the problem in the server's words, or null.
import { parseDate } from "../logic.js";

const ID_CHECK = "10X98765432";
const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]; // 2^(17-i) mod 11, GB 11643
const MOBILE = /^1[3-9]\d{9}$/;
const SHA256 = /^[0-9a-f]{64}$/;
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const TIME = /^([01]\d|2[0-3]):([0-5]\d):([0-5]\d)(\.\d+)?([zZ]|[+-]([01]\d|2[0-3]):[0-5]\d)$/;
const EMAIL = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/;

function idNumberProblem(value) {
  if (!/^[1-8][0-9]{16}[0-9X]$/.test(value)) return "应为 18 位数字（最后一位可为 X）";
  const born = parseDate(`${value.slice(6, 10)}-${value.slice(10, 12)}-${value.slice(12, 14)}`);
  if (born === null || born[0] < 1880) return "中的出生日期无效";
  const sum = ID_WEIGHTS.reduce((s, w, i) => s + w * Number(value[i]), 0);
  return ID_CHECK[sum % 11] === value[17] ? null : "校验位错误";
}

function isIsoDate(value) {
  const date = parseDate(value);
  return date !== null && date[0] >= 1; // no year 0, as Python's dates
}

const CHECKS = {
  "cn-id-number": idNumberProblem,
  "cn-mobile": (v) => (MOBILE.test(v) ? null : "不是有效的手机号码"),
  sha256: (v) => (SHA256.test(v) ? null : "不是有效的照片标识"),
  uuid: (v) => (UUID.test(v) ? null : "不是有效的编号"),
  email: (v) => (v.length <= 254 && EMAIL.test(v) ? null : "不是有效的电子邮箱地址"),
  date: (v) => (isIsoDate(v) ? null : "不是有效的日期"),
  time: (v) => (TIME.test(v) ? null : "不是有效的时间"),
  "date-time": (v) => (v.length >= 11 && "Tt".includes(v[10]) && isIsoDate(v.slice(0, 10)) && TIME.test(v.slice(11))
    ? null : "不是有效的日期时间"),
};

// The problem with a string answer in `format`, or null (formats the server does not assert are annotations).
export function formatProblem(format, value) {
  const check = CHECKS[format];
  return check && typeof value === "string" ? check(value) : null;
}
