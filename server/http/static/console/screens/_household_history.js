// A household file's history (变更记录), newest first: what each visit set, what people corrected, merged or undid,
// each change with who made it and why (a correction's or a merge's reason). Only the latest page is shown here; the
// API pages through the rest.
import { h, table, formatTime } from '../ui.js';
import { MEMBER_FIELDS, SITUATION_FIELDS } from './_labels.js';

const KINDS = {
  applied: '走访记录', kept: '被较晚的走访覆盖', reverted: '提交更正时撤回', resolved: '处理冲突', corrected: '人工更正',
  merged: '合并', merge_kept: '合并（保留原值，未采用新值）', unmerged: '撤销合并',
};
const PLACES = { '/address': '住址', '/head': '户主', '/phone': '电话', '/location': '位置', '/community': '社区（村）',
  '/merged_from': '并入的档案', '/merged_into': '并入到档案' };

const shown = (value) => (value === null || value === undefined ? '' : typeof value !== 'object' ? String(value)
  : value.name || JSON.stringify(value));

// The situation field a change is of, or the member field (`/members/{id}/{field}`), or none.
const situationField = (change) => (change.pointer.startsWith('/situation/') ? change.pointer.slice(11) : null);
const memberField = (change) => change.pointer.split('/')[3];

// A value in the words of the forms that bound it (租房, not rented); a list of codes (tags) word by word.
function worded(change, value, labels) {
  const field = situationField(change) ?? (change.member && memberField(change) ? `member:${memberField(change)}` : null);
  const words = (field && labels[field]) || {};
  if (Array.isArray(value) && value.every((v) => typeof v !== 'object')) return value.map((v) => words[v] ?? String(v)).join('、');
  return typeof value !== 'object' && words[value] !== undefined ? words[value] : shown(value);
}

function place(change, file) {
  if (PLACES[change.pointer]) return PLACES[change.pointer];
  const situation = situationField(change);
  if (situation) return SITUATION_FIELDS[situation] || situation;
  const member = file.members.find((m) => m.id === change.member);
  const name = member ? member.name : '成员';
  const field = memberField(change);
  return field ? `${name}的${MEMBER_FIELDS[field] || field}` : name;
}

export default function historyCard(file, page, labels = {}) {
  return h('section', { class: 'card history' }, h('h2', {}, '变更记录'),
    table([
      { label: '时间', value: (c) => formatTime(c.at) },
      { label: '项目', value: (c) => place(c, file) },
      { label: '变更', value: (c) => KINDS[c.kind] || c.kind },
      { label: '原值', value: (c) => worded(c, c.old_value, labels) },
      { label: '新值', value: (c) => worded(c, c.new_value, labels) },
      { label: '由谁', value: (c) => c.actor_name || '' },
      { label: '原因', value: (c) => c.reason || '' },
    ], page.items, { empty: '还没有变更。', rowAttrs: (c) => ({ dataset: { kind: c.kind, field: c.pointer } }) }),
    page.next_cursor ? h('p', { class: 'muted' }, `只显示最近 ${page.items.length} 条。`) : null);
}
