// One need opened on the board: where it stands and every step so far, the providers ranked for it with the
// server's reasons, and the supervisor's acts (consent on the household's behalf, dispatch, reassign, close).
import { api } from '../api.js';
import { h, table, toast, showProblem, formatTime } from '../ui.js';
import { NEED_STATUSES, URGENCIES, field } from './_common.js';

const OPEN = ['dispatched', 'accepted', 'in_service'];
const STEPS = {
  raise: '提出', consent: '记录同意', dispatch: '派单', reassign: '改派', accept: '接单', decline: '拒单', start: '开始服务',
  complete: '完成服务', evaluate: '评价', close: '关闭',
};

export default async function needPanel(ctx, id, mayDispatch, reload) {
  const need = await api(`/api/v1/needs/${id}`);
  const card = h('section', { class: need.overdue ? 'card need warn' : 'card need', dataset: { need: need.id } });
  const act = async (action, body) => {
    try {
      await api(`/api/v1/needs/${need.id}/${action}`, { method: 'POST', body });
      toast({ dispatch: '已派单', reassign: '已改派', close: '已关闭', consent: '已记录住户同意' }[action], 'ok');
      reload();
    } catch (error) { showProblem(card, error); }
  };
  card.append(...[
    h('h2', {}, `${need.item_name || need.item} · ${need.head || ''}`),
    h('p', {}, `状态：`, h('strong', { class: 'need-status' }, NEED_STATUSES[need.status] || need.status),
      need.overdue ? h('span', { class: 'badge warn' }, '逾期') : null,
      `　紧急程度：${URGENCIES[need.urgency] || need.urgency}　办理期限：${formatTime(need.due_at)}`),
    h('p', {}, `${need.community_name || ''} ${need.address || ''}　${need.description || ''}`),
    need.provider_name ? h('p', {}, `服务机构：${need.provider_name}（派单 ${formatTime(need.dispatched_at)}）`) : null,
    h('p', { class: 'muted' }, need.consent ? `住户已同意提供联系方式：${need.contact || ''}` : '住户尚未同意向服务机构提供联系方式'),
    h('h3', {}, '经过'),
    table([
      { label: '时间', value: (e) => formatTime(e.at) },
      { label: '操作', value: (e) => STEPS[e.action] || e.action },
      { label: '状态', value: (e) => `${NEED_STATUSES[e.from_status] || '—'} → ${NEED_STATUSES[e.to_status] || e.to_status}` },
      { label: '操作人', value: (e) => e.actor_name },
      { label: '原因', value: (e) => [e.reason, e.detail?.due_before && `原办理期限 ${formatTime(e.detail.due_before)}`]
        .filter(Boolean).join('；') },
    ], need.events),
  ].filter(Boolean));
  if (!mayDispatch) return card;

  const reason = h('input', { name: 'reason', placeholder: '改派或关闭的原因', dataset: { pointer: '/reason' } });
  if (need.status === 'raised' && !need.consent) {
    const contact = h('input', { name: 'contact', placeholder: '住户同意提供的联系方式', dataset: { pointer: '/contact' } });
    card.append(h('div', { class: 'toolbar' }, field('联系方式', contact),
      h('button', { type: 'button', onclick: () => act('consent', { consent: true, contact: contact.value }) }, '记录住户同意')));
  }
  const canDispatch = need.status === 'raised';
  const canReassign = OPEN.includes(need.status) && need.overdue;
  if (canDispatch || canReassign) {
    const matches = await api(`/api/v1/needs/${need.id}/matches`);
    card.append(h('h3', {}, '匹配的服务机构（按得分排序）'), matches.items.length ? table([
      { label: '服务机构', value: (m) => m.provider_name },
      { label: '得分', value: (m) => m.score.toFixed(2) },
      { label: '本月余量', value: (m) => String(m.capacity_left) },
      { label: '收费', value: (m) => (m.free ? '免费' : m.price || '收费') },
      { label: '理由', value: (m) => h('ul', { class: 'reasons' }, ...m.reasons.map((r) => h('li', {}, r))) },
      { label: '', value: (m) => (m.provider === need.provider ? '当前机构'
        : h('button', { type: 'button', dataset: { provider: m.provider },
          onclick: () => (canDispatch ? act('dispatch', { provider: m.provider })
            : act('reassign', { provider: m.provider, reason: reason.value })) }, canDispatch ? '派单' : '改派')) },
    ], matches.items) : h('p', { class: 'warn' }, '没有能接这项服务的机构（服务区域、供给清单或本月名额不符）。'));
  }
  if (!['evaluated', 'closed'].includes(need.status)) {
    card.append(h('div', { class: 'toolbar' }, field('原因', reason),
      h('button', { type: 'button', class: 'danger', onclick: () => act('close', { reason: reason.value }) }, '关闭需求')));
  } else if (canReassign) {
    card.append(field('原因', reason));
  }
  return card;
}
