// Fresh storage for the next test on a reused page (a WebDriver window, a kept Playwright context):
// run after navigating to the harness page. Waits for the page, empties the origin's storage with
// the storage APIs themselves, then lists whatever is left; the driver refuses the page unless
// nothing is. An async function expression: Playwright evaluates it as is, WebDriver calls it from
// execute_async_script. Resolves {left: [...]} or {notReady: message}.
(async () => {
  while (!(window.harness && window.harness.ready)) await new Promise(r => setTimeout(r, 20));
  try { await window.harness.ready; } catch (e) { return {notReady: String((e && e.message) || e)}; }
  localStorage.clear();
  sessionStorage.clear();
  const deleteDb = name => new Promise((resolve, reject) => {
    const req = indexedDB.deleteDatabase(name);
    req.onsuccess = req.onblocked = () => resolve();
    req.onerror = () => reject(req.error);
  });
  await Promise.all((await indexedDB.databases()).map(db => deleteDb(db.name)));
  if (self.caches) for (const key of await caches.keys()) await caches.delete(key);
  for (const cookie of document.cookie.split(';').map(c => c.split('=')[0].trim()).filter(Boolean)) {
    document.cookie = `${cookie}=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/`;
  }
  const left = [];
  if (window.harness.clearContext) {  // a context whose storage is not this window's (a cross-site frame)
    const reply = await window.harness.clearContext();
    if (reply.status !== 'ok') left.push(`the context's storage: ${reply.error.name}: ${reply.error.message}`);
    else if (reply.result.left.length) left.push(`in the context: ${JSON.stringify(reply.result.left)}`);
  }
  if (localStorage.length) left.push(`localStorage keys ${JSON.stringify(Object.keys(localStorage))}`);
  if (sessionStorage.length) left.push(`sessionStorage keys ${JSON.stringify(Object.keys(sessionStorage))}`);
  const dbs = (await indexedDB.databases()).map(db => db.name);
  if (dbs.length) left.push(`IndexedDB databases ${JSON.stringify(dbs)}`);
  if (document.cookie) left.push(`cookies ${JSON.stringify(document.cookie)}`);
  // Empty is also what the quota manager counts: Firefox went on counting a cleared localStorage's
  // 4.58 MB for ~10 s (estimate() said so, and a 0.8 M-character setItem was refused) after a second
  // page of the context had written it. An empty origin's own database files count 16-80 KiB there
  // (Chromium: 0); more than 256 KiB still counted is storage the next test would not have.
  if (navigator.storage && navigator.storage.estimate) {
    const {usage} = await navigator.storage.estimate();
    if (usage > 256 * 1024) left.push(`${usage} bytes still counted by navigator.storage.estimate()`);
  }
  return {left};
})
