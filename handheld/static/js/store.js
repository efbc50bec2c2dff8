// IndexedDB: the outbox of scans (in order, with their idempotency keys) and a few kept values (the OP sheet).
const DB = "hh";
let opening = null;

function open() {
  opening = opening || new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => {
      req.result.createObjectStore("outbox", { keyPath: "seq", autoIncrement: true });
      req.result.createObjectStore("kv", { keyPath: "k" });
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
  return opening;
}

async function run(store, mode, fn) {
  const db = await open();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(store, mode);
    const req = fn(tx.objectStore(store));
    tx.oncomplete = () => resolve(req ? req.result : undefined);
    tx.onerror = () => reject(tx.error);
  });
}

export const outbox = {
  add: (item) => run("outbox", "readwrite", (s) => s.add(item)),
  list: () => run("outbox", "readonly", (s) => s.getAll()),
  remove: (seq) => run("outbox", "readwrite", (s) => s.delete(seq)),
};

export async function getValue(k) {
  const row = await run("kv", "readonly", (s) => s.get(k));
  return row ? row.v : null;
}

export function setValue(k, v) { return run("kv", "readwrite", (s) => s.put({ k, v })); }
