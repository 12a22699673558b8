// What a browser storage scheme left behind, read with the storage APIs themselves (not TF.js):
// posts `storage.json` (keys, sizes, records without their bytes) and `storage.weights.bin`.
(function (root) {
  'use strict';
  const encoder = new TextEncoder();
  const LS_PREFIX = 'tensorflowjs_models/';  // TF.js's key prefix (local_storage.ts)
  const IDB_NAME = 'tensorflowjs';            // TF.js's database name (indexed_db.ts)
  // What the harness itself writes to fill storage up (harness/js/quota.js): never reported as a
  // scheme's keys; counted apart.
  const FILLER = 'harness-filler/';
  const FILLER_DB = 'harness-filler';

  function base64ToBytes(text) {
    const raw = atob(text);
    const out = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }

  async function localstorage(path, post) {
    const keys = {};
    for (let i = 0; i < localStorage.length; i++) {
      const key = localStorage.key(i);
      if (!key.startsWith(FILLER)) keys[key] = localStorage.getItem(key).length;
    }
    const prefix = `${LS_PREFIX}${path}/`;
    const get = (name) => localStorage.getItem(prefix + name);
    const parse = (name) => { const v = get(name); return v === null ? null : JSON.parse(v); };
    const report = {
      kind: 'localstorage', keys,
      info: parse('info'), model_topology: parse('model_topology'),
      weight_specs: parse('weight_specs'), model_metadata: parse('model_metadata'),
    };
    await post('storage.json', encoder.encode(JSON.stringify(report)));
    const data = get('weight_data');
    if (data !== null) await post('storage.weights.bin', base64ToBytes(data));
  }

  function request(req) {
    return new Promise((resolve, reject) => {
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  }

  // The database if it exists, else null, without creating it: an open that has to create it is aborted in
  // its upgrade. Not indexedDB.databases(): in a cross-site frame WebKitGTK 2.50 lists none of the frame's
  // databases while they exist (measured: TF.js's listModels there showed a model in a database it omitted).
  function openExisting(name) {
    return new Promise((resolve, reject) => {
      const req = indexedDB.open(name);
      let absent = false;
      req.onupgradeneeded = () => { absent = true; req.transaction.abort(); };
      req.onsuccess = () => resolve(req.result);
      req.onerror = (event) => {
        if (!absent) return reject(req.error);
        event.preventDefault();
        // WebKitGTK goes on listing a database whose creation was aborted: delete what the probe made.
        const gone = indexedDB.deleteDatabase(name);
        gone.onsuccess = gone.onerror = gone.onblocked = () => resolve(null);
      };
    });
  }

  async function indexeddb(path, post) {
    const report = {kind: 'indexeddb', database: IDB_NAME, stores: {}, records: {}};
    const db = await openExisting(IDB_NAME);
    if (db === null) {
      report.database = null;
      await post('storage.json', encoder.encode(JSON.stringify(report)));
      return;
    }
    report.version = db.version;
    let weights = null;
    try {
      for (const store of Array.from(db.objectStoreNames)) {
        const tx = db.transaction(store, 'readonly');
        const os = tx.objectStore(store);
        report.stores[store] = {keyPath: os.keyPath, keys: await request(os.getAllKeys())};
        const record = await request(os.get(path));
        if (record && record.modelArtifacts) {
          const {weightData, ...rest} = record.modelArtifacts;
          weights = weightData;
          report.records[store] = {...record, modelArtifacts: rest,
                                   weightDataType: Object.prototype.toString.call(weightData)};
        } else {
          report.records[store] = record === undefined ? null : record;
        }
      }
    } finally {
      db.close();
    }
    await post('storage.json', encoder.encode(JSON.stringify(report)));
    if (weights !== null && weights !== undefined) {
      await post('storage.weights.bin', harnessSteps.joinWeightData(tf, weights));
    }
  }

  async function inspect({scheme, path}, post) {
    const byScheme = {localstorage, indexeddb};
    if (!byScheme[scheme]) throw new Error(`no storage inspector for scheme ${scheme}`);
    return byScheme[scheme](path, post);
  }

  // Every key of both media, whoever wrote it: to check what remains after model management. A medium this
  // scope has not (a worker's localStorage) or is denied (a third-party frame's, where the engine refuses
  // it) holds nothing the scope can see: `denied` says which, with the engine's words.
  async function keys() {
    const out = {localStorage: [], indexeddb: {}, filler: {localStorageKeys: 0}, denied: {}};
    try {
      for (let i = 0; typeof localStorage !== 'undefined' && i < localStorage.length; i++) {
        const key = localStorage.key(i);
        if (key.startsWith(FILLER)) out.filler.localStorageKeys++;
        else out.localStorage.push(key);
      }
    } catch (e) {
      out.denied.localStorage = `${e.name}: ${e.message}`;
    }
    out.localStorage.sort();
    let db = null;
    try {
      db = await openExisting(IDB_NAME);
    } catch (e) {
      out.denied.indexedDB = `${e && e.name}: ${e && e.message}`;
    }
    if (db !== null) {
      try {
        for (const store of Array.from(db.objectStoreNames)) {
          const tx = db.transaction(store, 'readonly');
          out.indexeddb[store] = (await request(tx.objectStore(store).getAllKeys())).sort();
        }
      } finally {
        db.close();
      }
    }
    return out;
  }

  // A user (or upstream's local_storage_test) removing one of TF.js's keys by hand; the keys left.
  async function forget(key) {
    if (localStorage.getItem(key) === null) throw new Error(`localStorage has no key ${key}`);
    localStorage.removeItem(key);
    return keys();
  }

  // Empty this scope's storage (both media and Cache Storage) and say what is left: what the driver's reset
  // does in the window (harness/js/reset_storage.js), done inside a context whose storage is not the
  // window's (a cross-site frame's partition).
  async function clear() {
    const before = await keys();  // what the engine denies this scope cannot be cleared, nor hold anything
    if (!before.denied.localStorage && typeof localStorage !== 'undefined') localStorage.clear();
    if (!before.denied.indexedDB) {
      const listed = indexedDB.databases ? (await indexedDB.databases()).map((d) => d.name) : [];
      for (const name of new Set([IDB_NAME, FILLER_DB, ...listed])) {  // by name too: a listing may omit them
        await new Promise((resolve, reject) => {
          const req = indexedDB.deleteDatabase(name);
          req.onsuccess = req.onblocked = () => resolve();
          req.onerror = () => reject(req.error);
        });
      }
    }
    if (self.caches) for (const key of await caches.keys()) await caches.delete(key);
    const left = await keys();
    return {left: [...left.localStorage, ...Object.values(left.indexeddb).flat()], denied: left.denied};
  }

  // What the engine says of this scope's storage (the StorageManager): estimate(), persisted(), and, unless
  // `persist` is false, what persist() answers (a prompt nobody answers is reported after PROMPT_S, not
  // waited for: Firefox's on an on-disk profile is never answered).
  const PROMPT_S = 3;
  async function facts(persist = true) {
    const manager = typeof navigator !== 'undefined' ? navigator.storage : undefined;
    if (!manager) return {storageManager: false};
    const settle = async (what, call) => {
      if (typeof manager[what] !== 'function') return {absent: true};
      let timer;
      const unanswered = new Promise((resolve) => { timer = setTimeout(() => resolve({unanswered: `${PROMPT_S} s`}), PROMPT_S * 1000); });
      try {
        return await Promise.race([call(), unanswered]);
      } catch (e) {
        return {error: `${e.name}: ${e.message}`};
      } finally {
        clearTimeout(timer);
      }
    };
    const estimate = await settle('estimate', async () => {
      const {usage, quota} = await manager.estimate();
      return {usage, quota};
    });
    const persistedBefore = await settle('persisted', () => manager.persisted());
    if (!persist) return {storageManager: true, estimate, persistedBefore};
    const answer = await settle('persist', () => manager.persist());
    const persistedAfter = await settle('persisted', () => manager.persisted());
    return {storageManager: true, estimate, persistedBefore, persist: answer, persistedAfter};
  }

  root.harnessStorage = {inspect, keys, forget, clear, facts, FILLER, FILLER_DB};
})(self);
