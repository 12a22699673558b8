// Steps that make one of TF.js's io promises directly, the way a user's code or a library calls the
// exported API (harness.schemes.promises): weights decoded and encoded, handlers found by URL and their
// artifacts round-tripped, the legacy fromMemory signature, load routers given string arrays, a layers
// model's memory and metadata checks. Shared by the browser page and Node; each step is
// `async (tf, env, args) => result`, and posts binary results as parts (env.post) the way steps.js does.
//
// Every TF.js call is wrapped by `attempt`: its outcome is data ({value} or {error: {name, message}}),
// judged in Python against what upstream's tests assert and what numpy computes from the files.
(function (root, factory) {
  if (typeof module === 'object' && module.exports) module.exports = factory(require('./steps.js'));
  else root.harnessProbes = factory(root.harnessSteps);
})(typeof self !== 'undefined' ? self : this, function (shared) {
  'use strict';

  const encoder = new TextEncoder();

  async function attempt(fn) {
    try {
      return {value: await fn()};
    } catch (e) {
      return {error: {name: (e && e.name) || 'Error', message: String((e && e.message) || e)}};
    }
  }

  // Artifacts as data: `<name>.json` (every field but weightData; a binary topology becomes
  // {"binary": <bytes>} and its bytes `<name>.topology.bin`), `<name>.weights.bin`; the result says which
  // standard fields are undefined (JSON drops them) and which are null.
  async function postArtifacts(tf, env, name, artifacts) {
    const {weightData, modelTopology, ...rest} = artifacts;
    const json = {...rest};
    if (modelTopology instanceof ArrayBuffer || ArrayBuffer.isView(modelTopology)) {
      const bytes = modelTopology instanceof ArrayBuffer ? modelTopology : modelTopology.buffer;
      await env.post(`${name}.topology.bin`, bytes);
      json.modelTopology = {binary: bytes.byteLength};
    } else if (modelTopology !== undefined) {
      json.modelTopology = modelTopology;
    }
    await env.post(`${name}.json`, encoder.encode(JSON.stringify(json)));
    if (weightData !== undefined) await env.post(`${name}.weights.bin`, shared.joinWeightData(tf, weightData));
    const fields = ['modelTopology', 'weightSpecs', 'weightData', 'format', 'generatedBy', 'convertedBy',
                    'userDefinedMetadata', 'trainingConfig', 'modelInitializer', 'initializerSignature', 'signature'];
    return {undefinedFields: fields.filter((f) => artifacts[f] === undefined),
            weightData: weightData === undefined ? null : Array.isArray(weightData) ? 'ArrayBuffer[]' : 'ArrayBuffer'};
  }

  // Artifacts a user's code hands to a handler: the JSON fields as given, weightData fetched.
  async function artifactsFrom(env, given, weightsUrl) {
    const artifacts = {...given};
    if (weightsUrl) artifacts.weightData = await env.fetchBytes(weightsUrl);
    return artifacts;
  }

  // tf.io.loadWeights (over args.loadManifest), tf.io.decodeWeights, tf.io.decodeWeightsStream and
  // tf.io.encodeWeights (over args.manifest: its weights' bytes are args.whole) (io_utils_test,
  // weights_loader_test): each decoded set of tensors is posted as
  // `<prefix><api>.json` / `.bin` (steps.js postTensors: strings as uint32 length + bytes).
  async function decodeWeights(tf, env, args) {
    const p = args.prefix || '';
    const specs = [].concat(...args.manifest.map((group) => group.weights));
    const result = {};
    result.loadWeights = await attempt(async () => shared.postTensors(
        env, `${p}loadWeights`, await tf.io.loadWeights(args.loadManifest, args.filePathPrefix)));
    const buffer = await env.fetchBytes(args.whole);
    let decoded = null;
    result.decodeWeights = await attempt(async () => {
      const returned = tf.io.decodeWeights(buffer, specs);
      result.decodeWeightsGavePromise = returned instanceof Promise;  // upstream: it must not
      decoded = await returned;
      return shared.postTensors(env, `${p}decodeWeights`, decoded);
    });
    if (typeof tf.io.decodeWeightsStream !== 'function') {
      result.decodeWeightsStream = {absent: `tf.io.decodeWeightsStream is not in TF.js ${tf.version.tfjs}`};
    } else {
      result.decodeWeightsStream = await attempt(async () => {  // the body of a fetch, as http.ts streams it
        const response = await fetch(args.whole);
        return shared.postTensors(env, `${p}decodeWeightsStream`, await tf.io.decodeWeightsStream(response.body, specs));
      });
    }
    if (decoded) {
      result.encodeWeights = await attempt(async () => {
        const {data, specs: encoded} = await tf.io.encodeWeights(decoded);
        await env.post(`${p}encodeWeights.bin`, data);
        return encoded;
      });
    }
    return result;
  }

  // Save through the handler TF.js routes `args.save` to (tf.io.getSaveHandlers), or that `tf.io[args.factory]
  // (args.save)` makes, then load through the handler tf.io.getLoadHandlers gives for `args.load` (a URL or an
  // array of URLs): what local_storage_test, http_test, browser_files_test and file_system_test do.
  async function handlers(tf, env, args) {
    const p = args.prefix || '';
    const result = {};
    if (args.save !== undefined) {
      const artifacts = await artifactsFrom(env, args.artifacts, args.weights);
      result.save = await attempt(async () => {
        let found;
        if (args.factory) {  // the handler made by the exported factory, as its API doc shows it called
          const make = tf.io[args.factory];
          if (typeof make !== 'function') throw new TypeError(`tf.io.${args.factory} is not a function (it is ${typeof make})`);
          found = [make(args.save)];
        } else {
          found = tf.io.getSaveHandlers(args.save);
        }
        if (found.length !== 1) throw new Error(`tf.io.getSaveHandlers(${JSON.stringify(args.save)}) gave ${found.length} handlers`);
        return JSON.parse(JSON.stringify(await shared.withDeadline(found[0].save(artifacts), args.deadline, 'save()')));
      });
    }
    if (args.load !== undefined) {
      result.load = await attempt(async () => {
        const found = tf.io.getLoadHandlers(args.load);
        if (found.length !== 1) throw new Error(`tf.io.getLoadHandlers(${JSON.stringify(args.load)}) gave ${found.length} handlers`);
        const loaded = await shared.withDeadline(found[0].load(), args.deadline, 'load()');
        return postArtifacts(tf, env, `${p}artifacts`, loaded);
      });
    }
    return result;
  }

  // passthrough_test's legacy signatures: fromMemory(topology, specs, data) and fromMemory(topology), and
  // the same of fromMemorySync; each handler's load() posted as `<prefix><label>.*`.
  async function fromMemoryLegacy(tf, env, args) {
    const p = args.prefix || '';
    const data = await env.fetchBytes(args.weights);
    const {modelTopology, weightSpecs} = args.artifacts;
    const made = {
      'fromMemory-legacy': () => tf.io.fromMemory(modelTopology, weightSpecs, data),
      'fromMemory-topology-only': () => tf.io.fromMemory(modelTopology),
      'fromMemorySync-legacy': () => tf.io.fromMemorySync(modelTopology, weightSpecs, data),
      'fromMemorySync-topology-only': () => tf.io.fromMemorySync(modelTopology),
    };
    const result = {};
    for (const [label, make] of Object.entries(made)) {
      result[label] = await attempt(async () => {
        const returned = make().load();
        const sync = !(returned instanceof Promise);
        return {sync, ...(await postArtifacts(tf, env, `${p}${label}`, await returned))};
      });
    }
    return result;
  }

  // router_registry_test 'getLoadHandler with string array argument succeeds': a user's load router for
  // pairs of `args.scheme` URLs; how many handlers tf.io.getLoadHandlers gives for each case, and whether
  // they are the router's.
  const ARRAY_HANDLER = {load: async () => ({})};
  let arrayRouterFor = null;
  async function loadRouters(tf, env, args) {
    if (arrayRouterFor !== args.scheme) {  // once per page or process: routers cannot be unregistered
      const scheme = args.scheme;
      tf.io.registerLoadRouter((url) => (Array.isArray(url) && url.length === 2 && url.every((u) => u.startsWith(scheme))
        ? ARRAY_HANDLER : null));
      arrayRouterFor = scheme;
    }
    const result = {};
    for (const [label, url] of args.cases) {
      result[label] = await attempt(async () => {
        const found = tf.io.getLoadHandlers(url);
        return {handlers: found.length, theRouters: found.filter((h) => h === ARRAY_HANDLER).length};
      });
    }
    return result;
  }

  // router_registry_test 'getSaveHandler succeeds' / 'getLoadHandler succeeds': for each [label, 'save' |
  // 'load', url] of args.cases, how many handlers tf.io.getSaveHandlers / getLoadHandlers give and how many
  // are a user's save-only router's (bar://, registered with tf.io.registerSaveRouter); for the labels in
  // args.write, the one handler's save() of a topology-only model, and the storage keys it added (read with
  // the storage APIs, harness/js/storage.js): which medium the routed handler is.
  const SAVE_ONLY_HANDLER = {save: async () => ({modelArtifactsInfo: {dateSaved: new Date(), modelTopologyType: 'JSON'}})};
  let saveRouterRegistered = false;
  async function routes(tf, env, args) {
    if (!saveRouterRegistered) {  // once per page or process: routers cannot be unregistered
      tf.io.registerSaveRouter((url) => (typeof url === 'string' && url.startsWith('bar://') ? SAVE_ONLY_HANDLER : null));
      saveRouterRegistered = true;
    }
    const storage = typeof self !== 'undefined' ? self.harnessStorage : undefined;
    const added = (before, after) => ({
      localStorage: after.localStorage.filter((k) => !before.localStorage.includes(k)),
      indexeddb: Object.fromEntries(Object.entries(after.indexeddb).map(
          ([store, keys]) => [store, keys.filter((k) => !(before.indexeddb[store] || []).includes(k))])),
    });
    const result = {};
    for (const [label, kind, url] of args.cases) {
      result[label] = await attempt(async () => {
        const found = kind === 'save' ? tf.io.getSaveHandlers(url) : tf.io.getLoadHandlers(url);
        const out = {handlers: found.length, theUsers: found.filter((h) => h === SAVE_ONLY_HANDLER).length};
        if ((args.write || []).includes(label) && found.length === 1) {
          const before = await storage.keys();
          await shared.withDeadline(found[0].save({modelTopology: {probe: label}}), args.deadline, 'save()');
          out.added = added(before, await storage.keys());
        }
        return out;
      });
    }
    return result;
  }

  // models_test 'no memory leak during model loading': tf.memory().numTensors before a load, after it
  // and after model.dispose().
  async function loadCounting(tf, env, args) {
    const before = tf.memory().numTensors;
    const model = await shared.withDeadline(tf.loadLayersModel(args.fixture), args.deadline, 'load()');
    const loaded = tf.memory().numTensors;
    const weights = model.weights.length;
    model.dispose();
    return {before, loaded, disposed: tf.memory().numTensors, weights};
  }

  // user_defined_metadata_test: setUserDefinedMetadata refuses what is not a JSON object, and a save of
  // metadata over the limit warns (console.warn, watched as a user's test does) and still saves it.
  async function userMetadata(tf, env, args) {
    const model = await tf.loadLayersModel(args.fixture);
    const invalid = {
      'json-string': JSON.stringify({outputLabels: ['foo', 'bar', 'baz']}),
      'array': ['foo', 'bar', 'baz'],
      'tensor-inside': {foo: tf.zeros([2, 3]), outputLabels: ['foo', 'bar', 'baz']},
      'undefined': undefined,
      'null': null,
      'string': 'foo',
      'number': 1337,
    };
    const refused = {};
    for (const [label, value] of Object.entries(invalid)) {
      refused[label] = await attempt(async () => { model.setUserDefinedMetadata(value); return 'accepted'; });
    }
    const large = {metadata: 'x'.repeat(args.largeLength)};
    model.setUserDefinedMetadata(large);
    const warnings = [];
    const warn = console.warn;
    console.warn = (...xs) => { warnings.push(xs.map(String).join(' ')); };
    let saved = null;
    try {
      await model.save(tf.io.withSaveHandler(async (artifacts) => {
        saved = artifacts;
        return {modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts)};
      }));
    } finally {
      console.warn = warn;
    }
    const kept = saved && saved.userDefinedMetadata;
    return {refused, warnings: warnings.map((w) => w.slice(0, 300)),
            savedMetadataLength: kept && typeof kept.metadata === 'string' ? kept.metadata.length : null};
  }

  // models_test 'Saving+loading model with optimizer' and file_system_test 'Save and load model with loss
  // and optimizer', as a user resumes training: the model (with its trainingConfig and optimizer state) is
  // loaded from args.fixture and saved with its optimizer to args.saveLoaded; that copy is loaded back,
  // fit one step on (args.x, args.y) and saved to args.saveFitted; and the model loaded from args.fixture
  // but never saved is fit the same step and saved to args.saveNeverSaved. Each stage is an `attempt`.
  async function fitAfterLoad(tf, env, args) {
    const load = (url) => shared.withDeadline(tf.loadLayersModel(url), args.deadline, `tf.loadLayersModel(${url})`);
    const save = (model, url) => shared.withDeadline(model.save(url, {includeOptimizer: true}), args.deadline, 'save()');
    const fitSaved = async (model, url) => {
      const x = tf.tensor2d(args.x, args.xShape);
      const y = tf.tensor2d(args.y, args.yShape);
      try {
        const h = await shared.withDeadline(model.fit(x, y, {epochs: 1, batchSize: args.xShape[0], shuffle: false, verbose: 0}),
                                            args.deadline, 'fit()');
        const iterations = model.optimizer.iterations;
        await save(model, url);
        return {history: h.history, iterations};
      } finally {
        tf.dispose([x, y]);
        model.dispose();
      }
    };
    const result = {};
    result.saveLoaded = await attempt(async () => {
      const model = await load(args.fixture);
      const optimizer = model.optimizer ? model.optimizer.getClassName() : null;
      await save(model, args.saveLoaded);
      model.dispose();
      return {optimizer};
    });
    if (!result.saveLoaded.error) {
      result.fitReloaded = await attempt(async () => fitSaved(await load(args.reload), args.saveFitted));
    }
    result.fitNeverSaved = await attempt(async () => fitSaved(await load(args.fixture), args.saveNeverSaved));
    return result;
  }

  // e2e metadata.ts 'can load metadata.': a graph model's userDefinedMetadata is its model.metadata once
  // loaded (tf.loadGraphModel(args.fixture)); then the model is saved to each of args.saves and loaded back
  // from it (args.loads, the same order), and each copy's metadata is read the same way.
  // With args.feed ({inputs: {name: {values, dtype, shape}}, outputs: [names]}), each copy is also run
  // with model.executeAsync and its outputs' values returned (a hash-table graph: its modelInitializer runs on load).
  async function graphMetadata(tf, env, args) {
    const load = (url) => shared.withDeadline(tf.loadGraphModel(url), args.deadline, `tf.loadGraphModel(${url})`);
    const run = async (model) => {
      const feeds = {};
      for (const [name, t] of Object.entries(args.feed.inputs)) feeds[name] = tf.tensor(t.values, t.shape, t.dtype);
      try {
        const got = await shared.withDeadline(model.executeAsync(feeds, args.feed.outputs), args.deadline, 'executeAsync()');
        const list = Array.isArray(got) ? got : [got];
        const values = [];
        for (const t of list) values.push({dtype: t.dtype, shape: t.shape, values: Array.from(await t.data())});
        tf.dispose(list);
        return values;
      } finally {
        tf.dispose(Object.values(feeds));
      }
    };
    const metadataOf = async (model) => {
      const out = model.metadata === undefined ? {undefined: true} : {metadata: model.metadata};
      if (args.feed) out.outputs = await run(model);
      return out;
    };
    const result = {saves: {}, loads: {}};
    let model = null;
    result.load = await attempt(async () => { model = await load(args.fixture); return await metadataOf(model); });
    if (!model) return result;
    for (let i = 0; i < args.saves.length; i++) {
      const saved = await attempt(async () => {
        await shared.withDeadline(model.save(args.saves[i]), args.deadline, 'save()');
        return true;
      });
      result.saves[args.saves[i]] = saved;
      if (saved.error) continue;
      result.loads[args.saves[i]] = await attempt(async () => {
        const copy = await load(args.loads[i]);
        try { return await metadataOf(copy); } finally { copy.dispose(); }
      });
    }
    model.dispose();
    return result;
  }

  return {steps: {decodeWeights, handlers, fromMemoryLegacy, loadRouters, loadCounting, userMetadata, fitAfterLoad,
                  graphMetadata, routes}};
});
