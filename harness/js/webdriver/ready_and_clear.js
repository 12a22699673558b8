// WebDriver has no browser contexts: after navigating, wait for the harness page, then empty the
// origin's storage and list whatever is left (the driver refuses the page unless nothing is).
// Run with execute_async_script; replies {left: [...]}, {notReady: message} or {failed: message}.
const done = arguments[arguments.length - 1];
(async () => {
  while (!(window.harness && window.harness.ready)) await new Promise(r => setTimeout(r, 20));
  try { await (window.harness && window.harness.ready); } catch (e) { return {notReady: String((e && e.message) || e)}; }
  localStorage.clear();
  sessionStorage.clear();
  const deleteDb = name => new Promise((resolve, reject) => {
    const req = indexedDB.deleteDatabase(name);
    req.onsuccess = req.onblocked = () => resolve();
    req.onerror = () => reject(req.error);
  });
  await Promise.all((await indexedDB.databases()).map(db => deleteDb(db.name)));
  if (self.caches) for (const key of await caches.keys()) await caches.delete(key);
  const left = [];
  if (localStorage.length) left.push(`localStorage keys ${JSON.stringify(Object.keys(localStorage))}`);
  if (sessionStorage.length) left.push(`sessionStorage keys ${JSON.stringify(Object.keys(sessionStorage))}`);
  const dbs = (await indexedDB.databases()).map(db => db.name);
  if (dbs.length) left.push(`IndexedDB databases ${JSON.stringify(dbs)}`);
  return {left};
})().then(done, e => done({failed: `${(e && e.name) || "Error"}: ${(e && e.message) || e}`}));
