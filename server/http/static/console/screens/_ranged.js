// A download in ranges that survives a cut network: each range is kept as it arrives, and `run()` again asks only
// for the bytes still missing (Range: bytes=received-…), with the export's ETag as If-Range so a changed file is
// sent whole instead of being spliced. The assembled file is checked against the export's SHA-256, then saved.
import { apiRaw } from '../api.js';
import { saveBlob } from './_common.js';

const MIN_CHUNK = 16 * 1024;
const MAX_CHUNK = 4 * 1024 * 1024;

export class RangedDownload {
  constructor(exported) {
    this.path = `/api/v1/exports/${exported.id}/file`;
    this.size = exported.size;
    this.sha256 = exported.sha256;
    this.filename = `户档案导出_${exported.area_name || ''}_${exported.from}-${exported.to}.zip`;
    // Several ranges even for a small file, so that a cut costs one range, not the whole.
    this.chunk = Math.min(MAX_CHUNK, Math.max(MIN_CHUNK, Math.ceil(exported.size / 8)));
    this.parts = [];
    this.received = 0;
    this.resumes = 0;
    this.failed = null;
    this.verified = null;
    this.done = false;
    this.onprogress = () => {};
  }

  status() {
    const pct = this.size ? Math.floor((this.received * 100) / this.size) : 100;
    if (this.done) return `已下载 ${pct} %，${this.verified ? 'SHA-256 校验一致' : '本页面不能校验 SHA-256'}${this.resumes ? `（中断后续传 ${this.resumes} 次）` : ''}`;
    if (this.failed) return `下载中断于 ${this.received} / ${this.size} 字节（${pct} %）：${this.failed}。点“继续下载”从断点续传。`;
    return `已下载 ${this.received} / ${this.size} 字节（${pct} %）`;
  }

  async run() {
    if (this.failed) this.resumes += 1;
    this.failed = null;
    try {
      while (this.received < this.size) await this.fetchRange();
    } catch (error) {
      this.failed = error.message || '网络中断';
      this.onprogress();
      throw new Error(this.status());
    }
    const whole = new Blob(this.parts, { type: 'application/zip' });
    if (crypto.subtle) {
      const digest = await crypto.subtle.digest('SHA-256', await whole.arrayBuffer());
      const hex = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
      this.verified = hex === this.sha256;
      if (!this.verified) {
        this.parts = []; this.received = 0;
        throw new Error('文件校验不一致，已丢弃，请重新下载');
      }
    }
    this.done = true;
    this.onprogress();
    saveBlob(whole, this.filename);
  }

  async fetchRange() {
    const last = Math.min(this.size, this.received + this.chunk) - 1;
    const response = await apiRaw(this.path, { headers: { Range: `bytes=${this.received}-${last}`, 'If-Range': `"${this.sha256}"` } });
    if (response.status === 200) { // the file changed since: what came is the whole new file
      const whole = await response.blob();
      this.parts = [whole]; this.received = whole.size; this.size = whole.size;
    } else if (response.status === 206) {
      const part = await response.blob();
      this.parts.push(part);
      this.received += part.size;
    } else {
      throw new Error(`服务器答复 ${response.status}`);
    }
    this.onprogress();
  }
}
