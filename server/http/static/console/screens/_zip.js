// One entry out of a ZIP held in memory, read through its central directory: the household archive's
// 户档案摘要.pdf, to print without unpacking the archive by hand. Stored and deflated entries (what the server
// writes); deflate is undone by the browser's own DecompressionStream.
export async function zipEntry(blob, wanted) {
  const buffer = await blob.arrayBuffer();
  const view = new DataView(buffer);
  let end = -1;
  for (let at = buffer.byteLength - 22; at >= Math.max(0, buffer.byteLength - 65_557); at -= 1) {
    if (view.getUint32(at, true) === 0x06054b50) { end = at; break; }
  }
  if (end < 0) throw new Error('档案包不是有效的 ZIP 文件');
  const count = view.getUint16(end + 10, true);
  let at = view.getUint32(end + 16, true);
  const decoder = new TextDecoder();
  for (let n = 0; n < count; n += 1) {
    if (view.getUint32(at, true) !== 0x02014b50) break;
    const method = view.getUint16(at + 10, true);
    const compressed = view.getUint32(at + 20, true);
    const nameLength = view.getUint16(at + 28, true);
    const extraLength = view.getUint16(at + 30, true);
    const commentLength = view.getUint16(at + 32, true);
    const local = view.getUint32(at + 42, true);
    const name = decoder.decode(new Uint8Array(buffer, at + 46, nameLength));
    if (name === wanted) {
      const start = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
      const data = new Blob([new Uint8Array(buffer, start, compressed)]);
      if (method === 0) return data;
      if (method === 8) {
        return new Response(data.stream().pipeThrough(new DecompressionStream('deflate-raw'))).blob();
      }
      throw new Error(`不支持的压缩方式 ${method}`);
    }
    at += 46 + nameLength + extraLength + commentLength;
  }
  throw new Error(`档案包中没有 ${wanted}`);
}
