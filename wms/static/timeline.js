// Progressive enhancement for the wave pages: drag a timeline bar to move a slot, drag its right edge to resize
// it; the change is posted through the slot's own form (the same form that works without this script).
const STEP_MINUTES = 5;

function shiftLocal(value, minutes) {
  // datetime-local values are wall-clock times of the warehouse: shift them as plain numbers (no browser zone).
  const [date, time] = value.split("T");
  const [y, m, d] = date.split("-").map(Number);
  const [hh, mm] = time.split(":").map(Number);
  const t = new Date(Date.UTC(y, m - 1, d, hh, mm) + minutes * 60000);
  const pad = (n) => String(n).padStart(2, "0");
  return `${t.getUTCFullYear()}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())}T${pad(t.getUTCHours())}:${pad(t.getUTCMinutes())}`;
}

function secondsPerUnit(svg) {
  const start = Date.parse(svg.dataset.start);
  const end = Date.parse(svg.dataset.end);
  return (end - start) / 1000 / Number(svg.dataset.width);
}

function toSvgUnits(svg, dxClient) {
  const box = svg.getBoundingClientRect();
  const viewWidth = svg.viewBox.baseVal.width || box.width;
  return dxClient * (viewWidth / box.width);
}

function enableDrag(svg) {
  const perUnit = secondsPerUnit(svg);
  svg.querySelectorAll("g.tl-slot").forEach((bar) => {
    const form = document.querySelector(`form.slot-move[data-slot-id="${bar.dataset.slotId}"]`);
    if (!form) return;
    const body = bar.querySelector("rect");
    bar.style.cursor = "grab";
    bar.addEventListener("pointerdown", (down) => {
      const resize = down.target.classList.contains("tl-handle");
      const width0 = Number(body.getAttribute("width"));
      bar.setPointerCapture(down.pointerId);
      let dx = 0;
      const move = (ev) => {
        dx = toSvgUnits(svg, ev.clientX - down.clientX);
        if (resize) body.setAttribute("width", String(Math.max(2, width0 + dx)));
        else bar.setAttribute("transform", `translate(${dx} 0)`);
      };
      const up = () => {
        bar.removeEventListener("pointermove", move);
        bar.removeEventListener("pointerup", up);
        const minutes = Math.round((dx * perUnit) / 60 / STEP_MINUTES) * STEP_MINUTES;
        if (minutes === 0) {
          bar.removeAttribute("transform");
          body.setAttribute("width", String(width0));
          return;
        }
        const startInput = form.querySelector("input[name=starts_at]");
        const endInput = form.querySelector("input[name=ends_at]");
        if (!resize) startInput.value = shiftLocal(startInput.value, minutes);
        endInput.value = shiftLocal(endInput.value, minutes);
        form.requestSubmit();
      };
      bar.addEventListener("pointermove", move);
      bar.addEventListener("pointerup", up);
    });
    bar.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter") form.querySelector("input[name=starts_at]").focus();
    });
  });
}

document.querySelectorAll("[data-timeline] svg.timeline").forEach(enableDrag);

document.querySelectorAll("input[data-check-all]").forEach((all) => {
  all.addEventListener("change", () => {
    all.closest("form").querySelectorAll("input[name=order_id]").forEach((box) => { box.checked = all.checked; });
  });
});
