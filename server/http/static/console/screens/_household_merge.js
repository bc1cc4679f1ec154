// Duplicate files of one household: the server's lookalikes of this file, merging one into it with a reason, and
// undoing that merge (both files back as they were).
import { api } from '../api.js';
import { h, table, toast, showProblem, formatTime } from '../ui.js';
import { field } from './_common.js';

export default function mergePanel(ctx, file) {
  const card = h('section', { class: 'card' }, h('h2', {}, '重复档案'));
  const reason = h('input', { name: 'reason', placeholder: '必填：合并或撤销的原因', dataset: { pointer: '/reason' } });
  const found = h('div');
  const result = h('div');
  const undoId = h('input', { name: 'merge', placeholder: '合并编号', value: '' });

  const lookup = async () => {
    const head = file.members.find((m) => m.relation === 'self' || m.name === file.head);
    const query = { community: file.community, address: file.address };
    if (head && head.birth_date) Object.assign(query, { head: file.head, birth_date: head.birth_date });
    const page = await api('/api/v1/lookalikes', { query });
    const others = page.items.filter((item) => item.household !== file.id);
    found.replaceChildren(others.length ? table([
      { label: '户主', value: (r) => h('a', { href: `#/households?id=${r.household}` }, r.head) },
      { label: '住址', value: (r) => r.address },
      { label: '相似之处', value: (r) => r.reasons.map((x) => x.detail).join('；') },
      { label: '', value: (r) => h('button', { type: 'button', onclick: () => merge(r.household) }, '合并到本档案') },
    ], others) : h('p', { class: 'muted' }, '没有发现相似的档案。'));
  };

  const merge = async (duplicate) => {
    try {
      const done = await api(`/api/v1/households/${file.id}/merge`, { method: 'POST', body: { duplicate, reason: reason.value } });
      undoId.value = done.id;
      const moved = Object.entries(done.moved).map(([k, v]) => `${k} ${v}`).join('，');
      result.replaceChildren(h('p', { class: 'warn' }, `已合并（编号 ${done.id}，${formatTime(done.at)}）：移入 ${moved}。`));
      toast('已合并', 'ok');
    } catch (error) { showProblem(card, error); }
  };

  const undo = async () => {
    try {
      await api(`/api/v1/merges/${undoId.value.trim()}/undo`, { method: 'POST', body: { reason: reason.value } });
      result.replaceChildren(h('p', {}, '已撤销合并：两份档案已恢复原样。'));
      toast('已撤销合并', 'ok');
    } catch (error) { showProblem(card, error); }
  };

  card.append(field('原因', reason), h('div', { class: 'toolbar' },
    h('button', { type: 'button', onclick: lookup }, '查找相似档案'), undoId,
    h('button', { type: 'button', onclick: undo }, '撤销合并')), found, result);
  return card;
}
