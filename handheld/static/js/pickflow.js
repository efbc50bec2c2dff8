// The pick flow as the device predicts it (the server decides): location → item → tote → quantity per line, in
// route order; the sas drop point at the end. Pure functions over the OP sheet and the scans not yet confirmed.
export function normalize(code) {
  const c = code.trim();
  return /^\d+$/.test(c) && [8, 12, 13, 14].includes(c.length) ? c.padStart(14, "0") : c;
}

export function start(sheet) {
  return { step: sheet.state.step, lineId: sheet.state.line_id,
    picked: Object.fromEntries(sheet.lines.map((l) => [l.id, l.picked])) };
}

export function lineOf(sheet, st) { return sheet.lines.find((l) => l.id === st.lineId) || null; }

function advance(sheet, st, line) {
  const after = sheet.lines.filter((l) => l.seq > line.seq && !l.closed);
  const next = after.find((l) => (st.picked[l.id] ?? l.picked) < l.quantity);
  return next ? { ...st, step: "location", lineId: next.id } : { ...st, step: "drop", lineId: null };
}

export function matchesItem(line, code) {
  return line.barcodes.includes(normalize(code)) || code.trim() === line.sku;
}

// → { ok, reason, next }: reason names the wrong thing for the message.
export function judge(sheet, st, scan) {
  const line = lineOf(sheet, st);
  if (scan.kind) {
    if (!line) { return { ok: false, reason: "drop", next: st }; }
    if (scan.kind === "damaged") { return { ok: true, next: { ...st, step: "item" } }; }
    const picked = (st.picked[line.id] ?? 0) + (scan.kind === "short" ? scan.quantity : 0);
    return { ok: true, next: advance(sheet, { ...st, picked: { ...st.picked, [line.id]: picked } }, line) };
  }
  if (scan.step !== st.step) { return { ok: false, reason: st.step, next: st }; }
  if (st.step === "drop") {
    // The server decides; the device refuses at once only a code that is none of the sas drop points it was given.
    const points = sheet.op.drop_points || [];
    const place = (scan.code || "").trim().replace(/^R:/i, "").trim();
    if (points.length && !points.includes(place)) { return { ok: false, reason: "wrong_drop", next: st }; }
    return { ok: true, next: { ...st, step: "done" } };
  }
  if (!line) { return { ok: false, reason: "drop", next: st }; }
  const code = (scan.code || "").trim();
  if (st.step === "location") {
    if (code.toUpperCase().startsWith("R:")) { return { ok: false, reason: "pick_face_only", next: st }; }
    return code === line.location ? { ok: true, next: { ...st, step: "item" } }
      : { ok: false, reason: "wrong_location", next: st };
  }
  if (st.step === "item") {
    return matchesItem(line, code) ? { ok: true, next: { ...st, step: "tote" } }
      : { ok: false, reason: "wrong_item", next: st };
  }
  if (st.step === "tote") {
    const ok = line.tote ? code === line.tote : sheet.op.totes.includes(code);
    return ok ? { ok: true, next: { ...st, step: "quantity" } } : { ok: false, reason: "wrong_tote", next: st };
  }
  const remaining = line.quantity - (st.picked[line.id] ?? 0);
  if (!(scan.quantity >= 1 && scan.quantity <= remaining)) { return { ok: false, reason: "too_many", next: st }; }
  const picked = { ...st.picked, [line.id]: (st.picked[line.id] ?? 0) + scan.quantity };
  const next = { ...st, picked };
  return { ok: true, next: picked[line.id] >= line.quantity ? advance(sheet, next, line) : next };
}

// The state once the queued scans the device judged good are applied.
export function predict(sheet, queued) {
  let st = start(sheet);
  for (const item of queued) {
    if (item.opId !== sheet.op.id || !item.predicted) { continue; }
    st = judge(sheet, st, item.scan).next;
  }
  return st;
}
