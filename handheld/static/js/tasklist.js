// The list of lane tasks shared by replenishment and put-away: one big button per task (lane · SKU · units).
export function taskButtons(tasks, emptyText, onPick) {
  if (!tasks.length) { return [Object.assign(document.createElement("li"), { textContent: emptyText })]; }
  return tasks.map((x) => {
    const li = document.createElement("li");
    const b = document.createElement("button");
    b.className = "hh-button primary";
    b.type = "button";
    b.dataset.task = String(x.id);
    b.textContent = `${x.lane} · ${x.sku} · ${x.quantity}`;
    b.addEventListener("click", () => onPick(x));
    li.append(b);
    return li;
  });
}
