// Runs the expression vectors through server/http/static/logic.js and prints their results as one JSON list,
// for tests/forms/test_logic.py to compare (the results are compared there, so that both sides share one judge).
import { readFileSync } from "node:fs";
import { evaluate } from "../../server/http/static/logic.js";

const table = JSON.parse(readFileSync(new URL("./logic_vectors.json", import.meta.url), "utf8"));
const vectors = table.vectors;
const results = vectors.map((v) => {
  try {
    return { result: evaluate(v.logic, v.data ?? table.household, v.rows || [], v.context || {}, v.owner || "") };
  } catch (e) {
    return { error: String(e.message) };
  }
});
// JSON has no Infinity or NaN: name them, so that one never passes for the null it would be written as.
process.stdout.write(JSON.stringify(results, (k, v) => (typeof v === "number" && !Number.isFinite(v) ? `${v}` : v)));
