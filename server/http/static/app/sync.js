// /api/v1/sync into IndexedDB: the first sync takes everything, later ones only what changed since the cursor.
import { call } from "./api.js";
import { batch, clear, get, put } from "./db.js";

export async function syncNow() {
  let since = (await get("kv", "cursor")) || "";
  let count = 0;
  for (;;) {
    const { data } = await call("GET", `/sync?limit=200${since ? `&since=${encodeURIComponent(since)}` : ""}`);
    if (data.reset) {  // the worker's areas changed: what the phone holds is no longer the truth
      await clear("households");
      await clear("forms");
    }
    await batch("forms", data.forms, data.retired_forms);
    await batch("households", data.households.map((h) => ({ ...h, synced: true })), data.gone);
    if (data.catalogue) await put("kv", data.catalogue, "catalogue");
    count += data.households.length + data.forms.length;
    since = data.next_cursor;
    await put("kv", since, "cursor");
    if (!data.more) break;
  }
  await put("kv", new Date().toISOString(), "synced_at");
  return count;
}
