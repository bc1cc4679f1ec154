// Duplicate files of one household: the server's lookalikes of this file, merging one into it with a reason, and
// undoing that merge (both files back as they were).
import { api } from '../api.js';
import { h, table, toast, showProblem, formatTime } from '../ui.js';
import { field } from './_common.js';

const MOVED = { visits: '走访', submissions: '提交', photos: '照片', members: '成员', combined_members: '合并的同一成员',
  conflicts: '冲突', needs: '需求', changes: '变更记录' };

export default function mergePanel(ctx, file) {
  const card = h('section', { class: 'card duplicates' }, h('h2', {}, '重复档案'));
  const reason = h('input', { name: 'reason', placeholder: '必填：合并或撤销的原因', dataset: { pointer: '/reason' } });
  const found = h('div');
  const result = h('div');
  const undoId = h('input', { name: 'merge', placeholder: '合并编号', value: ctx.params.get('merge') || '' });

  const lookup = async () => {
    const head = file.members.find((m) => m.relation === 'self' || m.name === file.head);
    const query = { community: file.community, address: file.address };
    if (head && head.birth_date) Object.assign(query, { head: file.head, birth_date: head.birth_date });
    let page;
    try { page = await api('/api/v1/lookalikes', { query }); } catch (error) { showProblem(card, error); return; }
    const others = page.items.filter((item) => item.household !== file.id);
    found.replaceChildren(others.length ? table([
      { label: '户主', value: (r) => h('a', { href: `#/households?id=${r.household}` }, r.head) },
      { label: '住址', value: (r) => r.address },
      { label: '相似之处', value: (r) => r.reasons.map((x) => x.detail).join('；') },
      { label: '', value: (r) => h('button', { type: 'button', onclick: () => merge(r.household) }, '合并到本档案') },
    ], others) : h('p', { class: 'muted' }, '没有发现相似的档案。'));
  };

  // After a merge the file is drawn again (what moved into it shows), with the merge's number kept in the address
  // for its undoing.
  const merge = async (duplicate) => {
    showProblem(card, null);
    try {
      const done = await api(`/api/v1/households/${file.id}/merge`, { method: 'POST', body: { duplicate, reason: reason.value } });
      toast('已合并到本档案', 'ok');
      ctx.navigate(`#/households?id=${file.id}&merge=${done.id}`);
    } catch (error) { showProblem(card, error); }
  };

  const undo = async () => {
    showProblem(card, null);
    try {
      await api(`/api/v1/merges/${undoId.value.trim()}/undo`, { method: 'POST', body: { reason: reason.value } });
      toast('已撤销合并：两份档案已恢复原样', 'ok');
      ctx.navigate(`#/households?id=${file.id}&t=${Date.now()}`);
    } catch (error) { showProblem(card, error); }
  };

  const shown = async (id) => {
    try {
      const done = await api(`/api/v1/merges/${id}`);
      const moved = Object.entries(done.moved).filter(([, n]) => n).map(([k, n]) => `${MOVED[k] || k} ${n}`).join('，');
      result.replaceChildren(h('p', { class: done.undone_at ? 'muted' : 'warn', dataset: { merge: done.id } },
        done.undone_at ? `合并（编号 ${done.id}）已于 ${formatTime(done.undone_at)} 撤销。`
          : `已合并（编号 ${done.id}，${formatTime(done.at)}，原因：${done.reason}）：移入${moved || '的只有档案本身'}。如合并有误，写明原因后撤销。`));
    } catch (error) { result.replaceChildren(h('p', { class: 'error' }, error.message)); }
  };
  if (ctx.params.get('merge')) shown(ctx.params.get('merge'));

  card.append(field('原因', reason), h('div', { class: 'toolbar' },
    h('button', { type: 'button', onclick: lookup }, '查找相似档案'), undoId,
    h('button', { type: 'button', onclick: undo }, '撤销合并')), found, result);
  return card;
}
