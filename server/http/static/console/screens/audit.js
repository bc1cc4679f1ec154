// 审计日志: who read, changed, revealed or exported what, newest first, filtered by person, action and household.
import { api } from '../api.js';
import { h, table, formatTime } from '../ui.js';
import { allows, everyPage, field, moreButton, select } from './_common.js';

export const ACTIONS = {
  login: '登录', 'login.failed': '登录失败', 'login.throttled': '登录受限', 'login.throttle_lifted': '解除登录限制',
  logout: '退出登录', 'user.created': '创建用户', 'user.updated': '修改用户', 'area.created': '新增区域',
  'area.updated': '修改区域', 'standard.set': '录入保障标准', 'form.created': '新建表单', 'form.draft_replaced': '修改表单草稿',
  'form.published': '发布表单', 'form.retired': '停用表单', 'household.registered': '登记新户', 'household.read': '查看户档案',
  'household.corrected': '更正户档案', 'household.moved': '迁户', 'household.id_revealed': '查看完整身份证号',
  'household.archived': '导出户档案包', 'household.merged': '合并户档案', 'household.unmerged': '撤销合并',
  'conflict.resolved': '处理冲突', 'submission.created': '提交走访', 'submission.approved': '审核通过',
  'submission.returned': '退回提交', 'submissions.exported': '导出表单数据', 'attachment.read': '查看原始照片',
  'ledger.read': '查看台账', 'ledger.exported': '导出台账', 'households.synced': '离线同步户档案',
  'export.started': '开始批量导出', 'export.restarted': '重新批量导出', 'export.downloaded': '下载批量导出',
  'needs_report.exported': '导出需求统计', 'needs_month.township_approved': '乡镇（街道）月度结账',
  'needs_month.county_approved': '区（县）月度结账', 'catalogue.item_added': '新增服务项目',
  'catalogue.item_changed': '修改服务项目', 'provider.created': '新增服务机构', 'provider.offers': '修改供给清单',
};

export default async function render(root, ctx) {
  const p = ctx.params;
  const people = (await allows(ctx.me, 'user.list')) ? await everyPage('/api/v1/users') : [];
  const actor = select('actor', { '': '全部人员', ...Object.fromEntries(people.map((u) => [u.id, `${u.display_name}（${u.username}）`])) },
    p.get('actor') || '');
  const action = select('action', { '': '全部操作', ...ACTIONS }, p.get('action') || '');
  const household = h('input', { name: 'household', placeholder: '户编号', value: p.get('household') || '', dataset: { pointer: '/household' } });
  root.append(h('h1', {}, '审计日志'), h('form', { class: 'toolbar', onsubmit: (e) => {
    e.preventDefault();
    const q = new URLSearchParams();
    for (const [key, control] of Object.entries({ actor, action, household })) if (control.value.trim()) q.set(key, control.value.trim());
    ctx.navigate(`#/audit?${q}`);
  } }, field('人员', actor), field('操作', action), field('户', household), h('button', { type: 'submit' }, '筛选')));

  const query = {};
  for (const key of ['actor', 'action', 'household']) if (p.get(key)) query[key] = p.get(key);
  const events = [];
  const body = h('div', { class: 'wide' });
  const more = moreButton((cursor) => api('/api/v1/audit', { query: { ...query, ...(cursor ? { cursor } : {}) } }), (items) => {
    events.push(...items);
    body.replaceChildren(events.length ? table([
      { label: '时间', value: (e) => formatTime(e.at) },
      { label: '人员', value: (e) => e.actor_name || '' },
      { label: '操作', value: (e) => h('span', { title: e.action, dataset: { action: e.action } }, ACTIONS[e.action] || e.action) },
      { label: '对象', value: (e) => (e.target_type ? `${e.target_type} ${(e.target_id || '').slice(0, 8)}` : '') },
      { label: '户', value: (e) => (e.household ? h('a', { href: `#/households?id=${e.household}` }, e.household.slice(0, 8)) : '') },
      { label: '地址', value: (e) => e.address || '' },
      { label: '详情', value: (e) => (e.detail && Object.keys(e.detail).length ? JSON.stringify(e.detail) : '') },
    ], events) : h('p', { class: 'muted' }, '没有符合条件的记录。'));
  });
  root.append(h('section', { class: 'card' }, body, more.button));
  await more.load();
}
