// 需求派单: the month's needs by status, overdue ones marked; the monthly dispatch board (what must be dispatched
// before the 25th); one need opened with the providers ranked for it and their reasons: dispatch, reassign, close.
import { api } from '../api.js';
import { h, table, formatTime } from '../ui.js';
import { NEED_STATUSES, URGENCIES, allows, areaSelect, field, monthNow, monthSelect, moreButton, select } from './_common.js';
import needPanel from './_need_panel.js';

export default async function render(root, ctx) {
  const p = ctx.params;
  const month = p.get('month') ?? monthNow();
  const status = p.get('status') || '';
  const area = p.get('area') || '';
  const monthInput = monthSelect('month', month, { allLabel: '全部月份' });
  const statusSelect = select('status', { '': '全部状态', open: '未办结', overdue: '逾期', ...NEED_STATUSES }, status);
  const areaInput = await areaSelect('area', area);
  const go = (extra = {}) => {
    const q = new URLSearchParams({ month: monthInput.value, status: statusSelect.value, area: areaInput.value, ...extra });
    for (const [k, v] of [...q]) if (!v) q.delete(k);
    ctx.navigate(`#/needs?${q}`);
  };
  root.append(h('h1', {}, '需求派单'), h('form', { class: 'toolbar', onsubmit: (e) => { e.preventDefault(); go(); } },
    field('月份', monthInput), field('状态', statusSelect), field('区域', areaInput), h('button', { type: 'submit' }, '查看')));

  const panel = h('div', { class: 'need-panel' });
  if (await allows(ctx.me, 'report.needs')) root.append(await board(area, (id) => open(id)));
  const list = h('div');
  root.append(h('section', { class: 'card' }, h('h2', {}, '需求清单'), list), panel);

  const mayDispatch = await allows(ctx.me, 'need.dispatch');
  const open = async (id) => {
    panel.replaceChildren(await needPanel(ctx, id, mayDispatch, () => go({ need: id, t: Date.now() })));
    panel.scrollIntoView({ block: 'start' });
  };

  const needs = [];
  const body = h('div');
  const query = { ...(month ? { month } : {}), ...(status ? { status } : {}), ...(area ? { area } : {}) };
  const more = moreButton((cursor) => api('/api/v1/needs', { query: { ...query, ...(cursor ? { cursor } : {}) } }),
    (items) => {
      needs.push(...items);
      const counts = {};
      for (const n of needs) counts[n.status] = (counts[n.status] || 0) + 1;
      body.replaceChildren(
        h('p', { class: 'statuses' }, ...Object.entries(NEED_STATUSES).map(([code, name]) =>
          h('span', { class: 'badge', dataset: { status: code } }, `${name} ${counts[code] || 0}`)),
        h('span', { class: 'badge warn' }, `逾期 ${needs.filter((n) => n.overdue).length}`)),
        needs.length ? needTable(needs, open) : h('p', { class: 'muted' }, '没有符合条件的需求。'));
    });
  list.append(body, more.button);
  await more.load();
  if (p.get('need')) await open(p.get('need'));
}

export function needTable(needs, open) {
  const t = table([
    { label: '户主', value: (n) => n.head || '' },
    { label: '社区（村）', value: (n) => n.community_name || '' },
    { label: '服务项目', value: (n) => n.item_name || n.item },
    { label: '紧急程度', value: (n) => URGENCIES[n.urgency] || n.urgency },
    { label: '状态', value: (n) => h('span', { class: n.overdue ? 'badge warn' : 'badge' },
      `${NEED_STATUSES[n.status] || n.status}${n.overdue ? '·逾期' : ''}`) },
    { label: '办理期限', value: (n) => formatTime(n.due_at) },
    { label: '服务机构', value: (n) => n.provider_name || '' },
    { label: '', value: (n) => h('button', { type: 'button', class: 'small', dataset: { need: n.id },
      onclick: () => open(n.id) }, '打开') },
  ], needs);
  t.querySelectorAll('tbody tr').forEach((tr, i) => { if (needs[i].overdue) tr.classList.add('overdue', 'warn'); });
  return t;
}

async function board(area, open) {
  const b = await api('/api/v1/dispatch-board', { query: area ? { area } : {} });
  const section = h('section', { class: 'card board' },
    h('h2', {}, `月调度：${b.dispatch_day} 前派单`),
    h('p', {}, `截至 ${b.as_of}：待派单 ${b.totals.undispatched}，派单日前到期 ${b.totals.due_before_dispatch_day}，`,
      h('strong', { class: b.totals.overdue ? 'warn' : '' }, `逾期 ${b.totals.overdue}`)));
  if (b.by_area.length) {
    section.append(table([
      { label: '区域', value: (r) => r.name || '' },
      { label: '待派单', value: (r) => String(r.undispatched) },
      { label: '派单日前到期', value: (r) => String(r.due_before_dispatch_day) },
      { label: '逾期', value: (r) => String(r.overdue) },
    ], b.by_area));
  }
  if (b.overdue_by_provider.length) {
    section.append(h('p', { class: 'warn' }, '逾期的服务机构：',
      b.overdue_by_provider.map((r) => `${r.provider_name || ''} ${r.overdue} 件`).join('；')));
  }
  if (b.undispatched_needs.length) section.append(h('h3', {}, '最早的待派单需求'), needTable(b.undispatched_needs, open));
  if (b.overdue_needs.length) section.append(h('h3', {}, '逾期的需求'), needTable(b.overdue_needs, open));
  return section;
}
