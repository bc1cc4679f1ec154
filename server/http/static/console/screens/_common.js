// What the record screens (一户一档, 需求派单, 台账, 报表, 导出, 人员与区域, 审计日志) share: the zh-CN names of the
// API's codes, every page of a list, the caller's areas, and small pieces of form. Not a screen itself.
import { api, token } from '../api.js';
import { h, toast } from '../ui.js';

// The record screens' own styles, linked once (the console's CSP takes no inline <style>).
if (!document.querySelector('link[data-records]')) {
  document.head.append(h('link', { rel: 'stylesheet', href: new URL('./records.css', import.meta.url).href, dataset: { records: '' } }));
}

export const ROLE_NAMES = { admin: '管理员', bureau: '民政局', supervisor: '督导', worker: '社工', provider: '服务机构' };
export const LEVEL_NAMES = { county: '区（县）', township: '乡镇（街道）', community: '社区（村）' };
export const LEDGERS = { elderly: '困难老年人', children: '困境儿童', disability: '残疾人与精神障碍', assistance: '低保、特困家庭' };
export const TAGS = {
  elderly: '老年人', living_alone: '独居', empty_nest: '空巢', left_behind: '留守', child: '儿童', orphan: '孤儿',
  de_facto_unsupported: '事实无人抚养', disability: '残疾', mental_disorder: '精神障碍', subsistence_allowance: '低保',
  extreme_hardship: '特困', low_income: '低收入', serious_illness: '大病', relocated: '易地搬迁',
};
export const NEED_STATUSES = {
  raised: '待派单', dispatched: '已派单', accepted: '已接单', in_service: '服务中', done: '已完成',
  evaluated: '已评价', closed: '已关闭',
};
export const URGENCIES = { normal: '一般', high: '较急', urgent: '紧急' };
export const REVIEW_STATES = { pending: '待审核', approved: '已通过', returned: '已退回', replaced: '已更正' };
export const EXPORT_STATES = { queued: '排队中', running: '正在导出', done: '已完成', failed: '失败', expired: '已过期' };
export const RELATIONS = {
  self: '本人', spouse: '配偶', child: '子女', parent: '父母', grandchild: '孙子女', grandparent: '祖父母',
  sibling: '兄弟姐妹', other: '其他',
};
export const GENDERS = { male: '男', female: '女' };

// What is read once per login (the permission table, the caller's areas) is forgotten when the token changes.
let table = null;
let areas = null;
let readWith = null;
function fresh() {
  if (readWith !== token()) { table = null; areas = null; readWith = token(); }
}

// May the caller's role do this action? The shell's `me` carries the role; the table is the server's.
export async function allows(me, action) {
  fresh();
  table = table || api('/api/v1/permissions');
  const row = (await table).items.find((item) => item.action === action);
  return Boolean(row && row.roles.includes(me.role));
}

// Every page of a list that pages with next_cursor (areas, users), up to a sane bound.
export async function everyPage(path, query = {}) {
  const items = [];
  let cursor = '';
  for (let n = 0; n < 50; n += 1) {
    const page = await api(path, { query: { ...query, ...(cursor ? { cursor } : {}) } });
    items.push(...page.items);
    if (!page.next_cursor) break;
    cursor = page.next_cursor;
  }
  return items;
}

export async function myAreas() {
  fresh();
  areas = areas || everyPage('/api/v1/areas');
  return areas;
}

export async function areaNames() {
  return Object.fromEntries((await myAreas()).map((a) => [a.id, a.name]));
}

// A select of the caller's areas, indented by level; '' is "all my areas".
export async function areaSelect(name, value = '', { levels = null, allLabel = '全部辖区' } = {}) {
  const list = (await myAreas()).filter((a) => !levels || levels.includes(a.level));
  const indent = { county: '', township: '　', community: '　　' };
  return h('select', { name, dataset: { pointer: `/${name}` } },
    allLabel === null ? null : h('option', { value: '' }, allLabel),
    ...list.map((a) => h('option', { value: a.id, selected: a.id === value }, `${indent[a.level]}${a.name}`)));
}

export function select(name, options, value = '') {
  return h('select', { name, dataset: { pointer: `/${name}` } },
    ...Object.entries(options).map(([code, label]) => h('option', { value: code, selected: code === value }, label)));
}

// A labelled control; the server's refusal of it (showProblem) is shown in the label, which takes its pointer.
export function field(label, control) {
  const pointer = control.dataset.pointer;
  delete control.dataset.pointer;
  return h('label', { class: 'field', dataset: pointer ? { pointer } : {} }, h('span', {}, label), control);
}

export function monthNow() {
  // The stations' clock is Asia/Shanghai; the month a supervisor means is the one on the station's calendar.
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit' })
    .formatToParts(new Date());
  return `${parts.find((p) => p.type === 'year').value}-${parts.find((p) => p.type === 'month').value}`;
}

// A month as the station says it (2026年12月), chosen from the last three years: a month input would speak the
// browser's own language and format, which on a PC set up in English is not zh-CN.
export function monthSelect(name, value, { allLabel = null } = {}) {
  const [year, month] = monthNow().split('-').map(Number);
  const months = Array.from({ length: 36 }, (_, i) => {
    const at = new Date(Date.UTC(year, month - 1 - i, 1));
    return `${at.getUTCFullYear()}-${String(at.getUTCMonth() + 1).padStart(2, '0')}`;
  });
  if (value && !months.includes(value)) months.push(value);
  const label = (m) => `${m.slice(0, 4)}年${Number(m.slice(5))}月`;
  return h('select', { name, dataset: { pointer: `/${name}` } },
    allLabel === null ? null : h('option', { value: '', selected: !value }, allLabel),
    ...months.map((m) => h('option', { value: m, selected: m === value }, label(m))));
}

export function formatDay(iso) {
  if (!iso) return '';
  return new Intl.DateTimeFormat('zh-CN', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' })
    .format(new Date(iso));
}

// A "更多" button that fetches the next page with the cursor and hands the items to `add`.
export function moreButton(fetchPage, add) {
  const button = h('button', { type: 'button', class: 'more' }, '更多');
  let cursor = null;
  const load = async () => {
    button.disabled = true;
    const page = await fetchPage(cursor);
    add(page.items);
    cursor = page.next_cursor;
    button.style.display = cursor ? '' : 'none';
    button.disabled = false;
  };
  button.onclick = load;
  return { button, load };
}

// A photo served to whoever may read it needs the token, which an <img src> cannot send: fetch it and show the blob.
export function authorisedImage(apiRaw, path, alt) {
  const img = h('img', { alt, class: 'thumb', loading: 'lazy' });
  apiRaw(path).then(async (response) => {
    if (response.ok) img.src = URL.createObjectURL(await response.blob());
  }).catch(() => {});
  return img;
}

export function saveBlob(blob, filename) {
  const url = URL.createObjectURL(blob);
  const link = h('a', { href: url, download: filename });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

// A button's handler whose failure (a download refused, the network gone) is told in a toast, not lost.
export const guard = (fn) => async (...args) => {
  try { await fn(...args); } catch (error) { toast(error.message || '操作失败', 'error'); }
};
