// Renders /api/openapi.json as a list of operations; no external assets (stations are often offline).
fetch("/api/openapi.json").then((r) => r.json()).then((spec) => {
  const root = document.getElementById("ops");
  root.textContent = "";
  for (const [path, operations] of Object.entries(spec.paths)) {
    for (const [method, op] of Object.entries(operations)) {
      const box = document.createElement("div");
      box.className = "op";
      const verb = document.createElement("span");
      verb.className = "method " + method.toUpperCase();
      verb.textContent = method.toUpperCase();
      const where = document.createElement("code");
      where.textContent = path;
      const summary = document.createElement("div");
      summary.textContent = op.summary;
      box.append(verb, where, summary);
      if (op.requestBody) {
        const body = document.createElement("pre");
        body.textContent = JSON.stringify(op.requestBody.content["application/json"].schema, null, 2);
        box.append(body);
      }
      root.append(box);
    }
  }
});
