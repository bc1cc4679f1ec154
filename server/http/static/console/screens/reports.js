// 报表: the needs report of an area and a month, drawn with ECharts and drilled county → township → community
// (click a bar or a row), by service category and by provider; the month's closing and approval.
import { api, download } from '../api.js';
import { h, table, toast, showProblem, formatTime } from '../ui.js';
import { LEVEL_NAMES, allows, areaSelect, field, guard, monthNow, monthSelect, myAreas } from './_common.js';
import { chart } from './_charts.js';

const FIGURES = [['raised', '提出'], ['dispatched', '已派单'], ['accepted', '已接单'], ['done', '已完成'], ['overdue', '逾期']];
const days = (value) => (value === null || value === undefined ? '—' : `${value} 天`);

export default async function render(root, ctx) {
  const month = ctx.params.get('month') || monthNow();
  const areas = await myAreas();
  const byId = Object.fromEntries(areas.map((a) => [a.id, a]));
  const area = byId[ctx.params.get('area')] ? ctx.params.get('area') : '';
  const go = (next) => ctx.navigate(`#/reports?${new URLSearchParams({ month, ...next })}`);

  const monthInput = monthSelect('month', month);
  const areaInput = await areaSelect('area', area);
  const report = await api('/api/v1/reports/needs', { query: { month, ...(area ? { area } : {}) } });
  const trail = [];
  for (let at = byId[area]; at; at = byId[at.parent]) trail.unshift(at);
  root.append(h('h1', {}, '需求月度统计'),
    h('form', { class: 'toolbar', onsubmit: (e) => { e.preventDefault(); go({ month: monthInput.value, ...(areaInput.value ? { area: areaInput.value } : {}) }); } },
      field('月份', monthInput), field('区域', areaInput), h('button', { type: 'submit' }, '查看'),
      h('button', { type: 'button', class: 'download', onclick: guard(() => download(
        `/api/v1/reports/needs?${new URLSearchParams({ month, format: 'xlsx', ...(area ? { area } : {}) })}`,
        `需求统计_${month}.xlsx`)) }, '下载 XLSX')),
    h('nav', { class: 'crumbs' }, h('a', { href: `#/reports?month=${month}` }, '全部辖区'),
      ...trail.flatMap((a) => [' › ', h('a', { href: `#/reports?month=${month}&area=${a.id}` }, `${a.name}`)])));

  const t = report.totals;
  root.append(h('section', { class: 'card grid totals' }, ...FIGURES.map(([key, label]) =>
    h('div', { class: key === 'overdue' && t[key] ? 'figure warn' : 'figure' }, h('strong', {}, String(t[key])), h('span', {}, label))),
  h('div', { class: 'figure' }, h('strong', {}, days(t.median_days_to_accept)), h('span', {}, '接单用时（中位数）')),
  h('div', { class: 'figure' }, h('strong', {}, days(t.median_days_to_done)), h('span', {}, '办结用时（中位数）'))));

  const below = { county: 'township', township: 'community' };
  const first = report.by_area.length && byId[report.by_area[0].key];
  const level = LEVEL_NAMES[first ? first.level : below[(byId[area] || {}).level]] || '下级区域';
  const drillable = (row) => (row.key && byId[row.key] && byId[row.key].level !== 'community' ? row.key : null);
  const barBox = h('div', { class: 'chart', style: { height: '320px' } });
  const pieBox = h('div', { class: 'chart', style: { height: '320px' } });
  root.append(h('div', { class: 'grid' },
    h('section', { class: 'card' }, h('h2', {}, `按${level}${report.by_area.some(drillable) ? '（点击下钻）' : ''}`), barBox),
    h('section', { class: 'card' }, h('h2', {}, '按服务类别'), pieBox)));
  const bars = await chart(barBox, {
    tooltip: { trigger: 'axis' }, legend: { top: 0 }, grid: { left: 40, right: 10, bottom: 40, top: 40 },
    xAxis: { type: 'category', data: report.by_area.map((r) => r.name || '未知') },
    yAxis: { type: 'value', minInterval: 1 },
    series: FIGURES.map(([key, label]) => ({ name: label, type: 'bar', data: report.by_area.map((r) => r[key]) })),
  });
  bars.on('click', (event) => {
    const key = drillable(report.by_area[event.dataIndex]);
    if (key) go({ area: key });
  });
  await chart(pieBox, {
    tooltip: { trigger: 'item' },
    series: [{ type: 'pie', radius: ['35%', '65%'], data: report.by_category.map((r) => ({ name: r.name || r.key || '未分类', value: r.raised })) }],
  });

  const rowsOf = (rows, name, drill) => table([
    // A row without a key (the needs no provider holds) is named as the XLSX names it.
    { label: name, value: (r) => (drill && drillable(r) ? h('a', { href: `#/reports?month=${month}&area=${r.key}` }, r.name || '') : r.name || '（未指定）') },
    ...FIGURES.map(([key, label]) => ({ label, value: (r) => String(r[key]) })),
    { label: '接单用时', value: (r) => days(r.median_days_to_accept) },
    { label: '办结用时', value: (r) => days(r.median_days_to_done) },
  ], rows);
  root.append(h('section', { class: 'card' }, h('h2', {}, `按${level}`), rowsOf(report.by_area, '区域', true)),
    h('section', { class: 'card' }, h('h2', {}, '按服务机构'), rowsOf(report.by_provider, '服务机构', false)));
  if (byId[area] && byId[area].level === 'township') root.append(await closing(ctx, area, month, report.approval));
}

async function closing(ctx, area, month, approval) {
  const card = h('section', { class: 'card closing' }, h('h2', {}, '月度结账'));
  card.append(h('p', {}, approval
    ? `${approval.state_name}：乡镇（街道）审核于 ${formatTime(approval.township_at)}${approval.county_at ? `，区（县）审核于 ${formatTime(approval.county_at)}` : ''}。该月统计已冻结。`
    : '该月统计尚未结账。乡镇（街道）督导审核后冻结，再由区（县）民政局审核。'));
  // The server closes a month only once it has ended (on the station's calendar): the button waits for it.
  if (!approval && month >= monthNow()) {
    card.append(h('p', { class: 'muted' }, `${month} 尚未结束，月末之后才能结账。`));
    return card;
  }
  const next = !approval ? 'supervisor' : approval.state === 'township_approved' ? 'bureau' : null;
  if (next && (ctx.me.role === next || ctx.me.role === 'admin') && (await allows(ctx.me, 'report.approve'))) {
    card.append(h('button', { type: 'button', onclick: async () => {
      try {
        await api('/api/v1/reports/needs/approvals', { method: 'POST', body: { area, month } });
        toast('已审核结账', 'ok');
        ctx.navigate(`#/reports?month=${month}&area=${area}&t=${Date.now()}`);
      } catch (error) { showProblem(card, error); }
    } }, next === 'supervisor' ? '乡镇（街道）审核并结账' : '区（县）审核'));
  }
  return card;
}
