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

  async function openExisting(name) {
    const names = indexedDB.databases ? (await indexedDB.databases()).map((d) => d.name) : null;
    if (names !== null && !names.includes(name)) return null;
    return request(indexedDB.open(name));
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

  // Every key of both media, whoever wrote it: to check what remains after model management.
  async function keys() {
    const out = {localStorage: [], indexeddb: {}, filler: {localStorageKeys: 0}};
    for (let i = 0; i < localStorage.length; i++) {
      const key = localStorage.key(i);
      if (key.startsWith(FILLER)) out.filler.localStorageKeys++;
      else out.localStorage.push(key);
    }
    out.localStorage.sort();
    const db = await openExisting(IDB_NAME);
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

  root.harnessStorage = {inspect, keys, forget, FILLER, FILLER_DB};
})(self);
