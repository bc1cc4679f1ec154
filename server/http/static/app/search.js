// Finding households on the phone as the server does (server/households/search.py): Latin letters match the start
// of a name's pinyin, full or initials (the words come with each synced file); anything else is a part of a
// name, the address or the phone.
export function matches(household, query) {
  const q = query.trim().toLowerCase().replaceAll(" ", "");
  if (!q) return true;
  if (/^[a-z]+$/.test(q)) return (household.pinyin || []).some((word) => word.startsWith(q));
  const names = [household.head, household.situation?.head_name, ...(household.members || []).map((m) => m.name)];
  const texts = [...names, household.address, household.phone, household.situation?.address, household.situation?.phone];
  return texts.some((t) => typeof t === "string" && t.toLowerCase().includes(q));
}
