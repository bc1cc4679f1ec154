// Placeholder until the screen lands.
export default async function render(root, { ui }) {
  root.append(ui.h("p.muted", "建设中"));
}
