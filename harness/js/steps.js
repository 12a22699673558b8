// Steps shared by the browser page and Node: each is `async (tf, env, args) => result`.
//
// `env` is what differs between hosts:
//   env.post(name, bytes)             send one artifact back to the harness (ArrayBuffer | Uint8Array)
//   env.fetchBytes(url)               read a fixture as an ArrayBuffer
//   env.inspectStorage(what, post)    post what a storage scheme holds (browser only; may be absent)
//   env.files(inputId)                the File objects a driver put into <input type=file> (browser only)
//
// Where a model is saved to or loaded from is a JSON descriptor, turned into what a user's code would
// pass to TF.js by `saveTarget` / `loadSource` below (one entry per kind of IOHandler).
// A step throws on failure; the error says which phase failed (error.phase).
(function (root, factory) {
  if (typeof module === 'object' && module.exports) module.exports = factory();
  else root.harnessSteps = factory();
})(typeof self !== 'undefined' ? self : this, function () {
  'use strict';

  const encoder = new TextEncoder();
  // Artifacts kept in this page/process between steps, by key: what a user's in-memory handler holds.
  const memory = {};

  async function phase(name, timings, fn) {
    const t0 = Date.now();
    try {
      return await fn();
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      if (err.phase === undefined) err.phase = name;
      throw err;
    } finally {
      timings[name] = (Date.now() - t0) / 1000;
    }
  }

  // `promise`, or a DeadlineExceeded error once `seconds` pass with it unsettled (no deadline when
  // seconds is falsy). A promise that never settles is an outcome of its own, not a slow success.
  function withDeadline(promise, seconds, what) {
    if (!seconds) return promise;
    let timer;
    const expired = new Promise((resolve, reject) => {
      timer = setTimeout(() => {
        const e = new Error(`${what} neither resolved nor rejected within ${seconds} s`);
        e.name = 'DeadlineExceeded';
        reject(e);
      }, seconds * 1000);
    });
    return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
  }

  // All weights as one ArrayBuffer (TF.js >= 4.10 may hand over an ArrayBuffer[]).
  function joinWeightData(tf, weightData) {
    if (weightData == null) return new ArrayBuffer(0);
    if (Array.isArray(weightData)) return tf.io.CompositeArrayBuffer.join(weightData);
    return weightData;
  }

  // A user's own IOHandler: an object with save and load, keeping the artifacts in memory.
  function customHandler(tf, key) {
    return {
      async save(artifacts) {
        memory[key] = artifacts;
        return {modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts)};
      },
      async load() {
        if (!memory[key]) throw new Error(`custom handler: nothing saved under ${key}`);
        return memory[key];
      },
    };
  }

  function saveTarget(tf, env, d) {
    switch (d.kind) {
      case 'url': return d.url;  // a scheme URL: localstorage://, indexeddb://, downloads://, http(s)://, file://
      case 'http': return tf.io.http(d.url, d.options);
      case 'browserHTTPRequest': return tf.io.browserHTTPRequest(d.url, d.options);
      case 'custom': return customHandler(tf, d.key);
      case 'without-method': return {};  // a user's IOHandler object that lacks save (model_save_test)
      case 'withSaveHandler':
        return tf.io.withSaveHandler(async (artifacts) => {
          memory[d.key] = artifacts;
          return {modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts)};
        });
      case 'withSaveHandlerSync':  // the synchronous form (passthrough_test 'Passthrough Saver Sync')
        return tf.io.withSaveHandlerSync((artifacts) => {
          memory[d.key] = artifacts;
          return {modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts)};
        });
      default: throw new Error(`unknown save target kind ${d.kind}`);
    }
  }

  // LoadOptions as a user writes them (d.options: requestInit, weightPathPrefix...), with the callbacks
  // the descriptor asks for; what they saw goes into `record`.
  function loadOptions(d, record) {
    const options = {...(d.options || {})};
    if (d.recordProgress) {
      record.progress = [];
      record.progressAt = [];  // ms since the load began, per call
      const t0 = Date.now();
      options.onProgress = (fraction) => { record.progress.push(fraction); record.progressAt.push(Date.now() - t0); };
    }
    if (d.weightUrlPrefix) {  // a user's weightUrlConverter: weight file name -> URL
      record.convertedWeightUrls = [];
      options.weightUrlConverter = async (name) => {
        record.convertedWeightUrls.push(name);
        return d.weightUrlPrefix + name;
      };
    }
    if (d.weightUrls) {  // a user's weightUrlConverter over the URLs its backend handed out (presigned, per file)
      record.convertedWeightUrls = [];
      options.weightUrlConverter = async (name) => {
        record.convertedWeightUrls.push(name);
        const url = d.weightUrls[name.replace(/^\.\//, '')];
        if (url === undefined) throw new Error(`weightUrlConverter: no URL was handed out for ${name}`);
        return url;
      };
    }
    if (d.recordFetches) {  // a user's fetchFunc: the platform's fetch, each request written down
      record.fetches = [];
      options.fetchFunc = (input, init) => {
        const headers = init && init.headers ? Object.fromEntries(new Headers(init.headers).entries()) : {};
        record.fetches.push({url: String(input), credentials: (init && init.credentials) || null, headers});
        return fetch(input, init);
      };
    }
    return options;
  }

  // What a user's code passes to tf.loadLayersModel / tf.loadGraphModel: [source, options or undefined].
  function loadSource(tf, env, d, record) {
    switch (d.kind) {
      case 'url': return [d.url, d.options || d.recordProgress || d.recordFetches || d.weightUrls ? loadOptions(d, record) : undefined];
      case 'http': case 'browserHTTPRequest': return [tf.io[d.kind](d.url, loadOptions(d, record))];
      case 'browserFiles': return [tf.io.browserFiles(env.files(d.input))];
      case 'custom': return [customHandler(tf, d.key)];
      case 'without-method': return [{}];  // a user's IOHandler object that lacks load (models_test)
      case 'fromMemory': {
        if (!memory[d.key]) throw new Error(`fromMemory: nothing saved under ${d.key}`);
        return [tf.io.fromMemory(memory[d.key])];
      }
      case 'fromMemorySync': {
        if (!memory[d.key]) throw new Error(`fromMemorySync: nothing saved under ${d.key}`);
        return [tf.io.fromMemorySync(memory[d.key])];
      }
      default: throw new Error(`unknown load source kind ${d.kind}`);
    }
  }

  function loadModel(tf, format, source, options) {
    return format === 'graph-model' ? tf.loadGraphModel(source, options) : tf.loadLayersModel(source, options);
  }

  // Flip one bit of one weight in place: a self-test of the harness, never used by scenarios.
  function flipBit(tf, model, {weight, byte, bit}) {
    const index = model.weights.findIndex((w) => w.originalName === weight);
    if (index < 0) throw new Error(`flipBit: no weight named ${weight}`);
    const values = model.getWeights();
    const target = values[index];
    const data = target.dataSync().slice();
    new Uint8Array(data.buffer, data.byteOffset, data.byteLength)[byte] ^= (1 << bit);
    values[index] = tf.tensor(data, target.shape, target.dtype);
    model.setWeights(values);
  }

  const ARRAY_OF = {float32: Float32Array, int32: Int32Array, bool: Uint8Array};

  function typedArray(dtype, buffer) {
    const Type = ARRAY_OF[dtype];
    if (!Type) throw new Error(`unsupported input dtype ${dtype}`);
    return new Type(buffer);
  }

  function bytesOf(typed) {
    return new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
  }

  // A tensor's values laid out as its dtype says (what a user's code reads from data() are numbers), and
  // the typed array TF.js gave when it was another: its cpu backend hands some float32 outputs back as an
  // Int32Array, whose raw bytes read as float32 would be other numbers.
  function valuesOf(dtype, data) {
    const Type = ARRAY_OF[dtype];
    if (!Type || data instanceof Type) return {bytes: bytesOf(data)};
    return {bytes: bytesOf(Type.from(data)), givenAs: data.constructor.name};
  }

  // The model's outputs on the golden inputs (fetched from the harness server), as a list of tensors.
  // `execute`: how the model's user runs it, 'execute' or 'executeAsync' (a graph with control flow or
  // dynamic ops, for which TF.js refuses execute()); a layers model predicts.
  async function predict(tf, env, format, model, inputs, execute) {
    const xs = [];
    for (const spec of inputs) {
      xs.push(tf.tensor(typedArray(spec.dtype, await env.fetchBytes(spec.url)), spec.shape, spec.dtype));
    }
    let ys;
    if (format === 'graph-model') {  // inputs by placeholder name; outputs in outputNodes order
      const feed = Object.fromEntries(inputs.map((spec, i) => [spec.name, xs[i]]));
      ys = execute === 'executeAsync' ? await model.executeAsync(feed) : model.execute(feed);
    } else {
      ys = model.predict(xs.length === 1 ? xs[0] : xs);
    }
    return [].concat(ys);
  }

  // Where the model's weights live after use, as evidence that save() reads them back from the backend:
  // on webgl, how many have a texture and no CPU copy left (the backend drops it once uploaded). Only
  // observed, never changed; null on backends that keep no such record.
  function residence(tf, model) {
    const backend = tf.backend();
    if (!backend || !backend.texData || typeof backend.texData.get !== 'function') return null;
    const tensors = Array.isArray(model.weights) ? model.weights.map((v) => v.read())
      : Object.values(model.weights).flat();
    let gpuOnly = 0;
    for (const t of tensors) {
      const data = backend.texData.get(t.dataId);
      if (data && data.texture != null && data.values == null) gpuOnly += 1;
    }
    return {weights: tensors.length, onTextureOnly: gpuOnly};
  }

  // Load the golden from the harness server (over http) and save it to the target. args.warm (the
  // golden inputs): use the model first, as an app does, so that its weights live on the backend (webgl:
  // uploaded to textures, their CPU copies dropped) and save() reads them back from it.
  async function save(tf, env, args) {
    const timings = {};
    const model = await phase('load-golden', timings, () => loadModel(tf, args.format, args.fixture));
    if (args.flipBit) flipBit(tf, model, args.flipBit);
    let resident = null;
    if (args.warm) {
      await phase('warm', timings, async () => {
        for (const y of await predict(tf, env, args.format, model, args.warm, args.execute)) await y.data();
      });
      resident = residence(tf, model);
    }
    const saveResult = await phase('save', timings, () => withDeadline(
        model.save(saveTarget(tf, env, args.target), args.saveConfig || undefined), args.deadline, 'save()'));
    if (args.inspect && env.inspectStorage) {
      await phase('inspect-storage', timings, () => env.inspectStorage(args.inspect, env.post));
    }
    return {saveResult, timings, resident};
  }

  // Load the model from the source, predict on the golden inputs, and post back what it holds
  // (as tf.io.withSaveHandler captures it) and what it predicts. Part names start with args.prefix.
  async function load(tf, env, args) {
    const timings = {};
    const result = {timings};
    const p = args.prefix || '';
    const model = await phase('load', timings, () => withDeadline(
        loadModel(tf, args.format, ...loadSource(tf, env, args.source, result)), args.deadline, 'load()'));
    result.predictions = [];
    if (args.inputs) await phase('predict', timings, async () => {  // null: the row checks no predictions
      const ys = await predict(tf, env, args.format, model, args.inputs, args.execute);
      for (let j = 0; j < ys.length; j++) {
        const string = ys[j].dtype === 'string';  // posted as JSON: nested lists of strings
        const part = `${p}prediction${j}.${string ? 'json' : 'bin'}`;
        const values = string ? {bytes: encoder.encode(JSON.stringify(await ys[j].array()))} : valuesOf(ys[j].dtype, await ys[j].data());
        await env.post(part, values.bytes);
        result.predictions.push({output: j, part, shape: ys[j].shape, dtype: ys[j].dtype,
                                 ...(values.givenAs ? {givenAs: values.givenAs} : {})});
      }
    });
    await phase('capture', timings, async () => {
      let captured = null;
      await model.save(tf.io.withSaveHandler(async (artifacts) => {
        captured = artifacts;
        return {modelArtifactsInfo: {dateSaved: new Date(), modelTopologyType: 'JSON'}};
      }), args.saveConfig || undefined);
      const {weightData, ...rest} = captured;
      await env.post(`${p}loaded.json`, encoder.encode(JSON.stringify(rest)));
      await env.post(`${p}loaded.weights.bin`, joinWeightData(tf, weightData));
    });
    if (args.format === 'graph-model') {
      // GraphModel.save hands back the artifacts it loaded: what it executes with are its tensors.
      await phase('tensors', timings, () => postTensors(env, `${p}loaded.tensors`, model.weights));
    }
    return result;
  }

  // A graph model's weight tensors (model.weights: node name -> [tensor]), as TF.js holds them:
  // `<name>.json` lists {name, dtype, shape, bytes}, `<name>.bin` their bytes in that order (string
  // tensors as each element's uint32 little-endian byte length, then its bytes).
  async function postTensors(env, name, weights) {
    const list = [];
    const chunks = [];
    for (const [node, tensors] of Object.entries(weights)) {
      const t = [].concat(tensors)[0];
      let bytes, givenAs;
      if (t.dtype === 'string') {
        const parts = [];
        for (const b of await t.bytes()) {
          const head = new Uint8Array(4);
          new DataView(head.buffer).setUint32(0, b.length, true);
          parts.push(head, b);
        }
        bytes = concat(parts);
      } else {
        ({bytes, givenAs} = valuesOf(t.dtype, await t.data()));
      }
      list.push({name: node, dtype: t.dtype, shape: t.shape, bytes: bytes.byteLength, ...(givenAs ? {givenAs} : {})});
      chunks.push(bytes);
    }
    await env.post(`${name}.json`, encoder.encode(JSON.stringify(list)));
    await env.post(`${name}.bin`, concat(chunks));
    return list;
  }

  function concat(arrays) {
    const out = new Uint8Array(arrays.reduce((n, a) => n + a.byteLength, 0));
    let offset = 0;
    for (const a of arrays) {
      out.set(a, offset);
      offset += a.byteLength;
    }
    return out;
  }

  // Load a model (with a deadline) and report what it holds without sending its bytes: the SHA-256
  // of its weight data as TF.js would save it, its byte count and its topology. For models too big
  // to post back (the large and capacity checks compare the digest with the golden's).
  async function fingerprint(tf, env, args) {
    const timings = {};
    const model = await phase('load', timings, () => withDeadline(
        loadModel(tf, args.format, ...loadSource(tf, env, args.source, {})), args.deadline, 'load()'));
    let captured = null;
    await model.save(tf.io.withSaveHandler(async (artifacts) => {
      captured = artifacts;
      return {modelArtifactsInfo: {dateSaved: new Date(), modelTopologyType: 'JSON'}};
    }));
    const weights = joinWeightData(tf, captured.weightData);
    const digest = await phase('digest', timings, () => crypto.subtle.digest('SHA-256', weights));
    const sha256 = Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
    if (model.dispose) model.dispose();  // free the big tensors before the next try
    return {weightBytes: weights.byteLength, sha256, modelTopology: captured.modelTopology,
            weightSpecs: captured.weightSpecs, timings};
  }

  // What a model takes and gives: its inputs' and outputs' names, shapes and dtypes.
  async function describe(tf, env, args) {
    const model = await loadModel(tf, args.format, args.fixture);
    const spec = (t) => ({name: t.name, shape: t.shape === undefined ? null : t.shape, dtype: t.dtype});
    return {inputs: model.inputs.map(spec), outputs: model.outputs.map(spec)};
  }

  // tf.io model management: one call, its result, and what the storage holds afterwards.
  async function manage(tf, env, args) {
    let value;
    try {
      value = await withDeadline(tf.io[args.op](...args.args), args.deadline, `tf.io.${args.op}()`);
    } catch (e) {
      return {error: {name: e.name, message: String(e.message || e)}};
    }
    if (value === undefined) return {value: null};
    // A factory's handler (tf.io.http, browserFiles) is named by its class: its fields are not data
    if (typeof value === 'object' && value !== null && value.constructor !== Object) return {value: `a ${value.constructor.name}`};
    return {value: JSON.parse(JSON.stringify(value))};  // Dates as ISO strings
  }

  // tf.io.loadWeights(manifest, prefix, names): the weights-only loading libraries such as face-api.js
  // use. Posts each returned tensor's bytes as `<prefix>weight<i>.bin`; returns their names, dtypes and shapes.
  async function loadWeights(tf, env, args) {
    let tensors;
    try {
      tensors = await withDeadline(tf.io.loadWeights(args.manifest, args.filePathPrefix, args.names),
                                   args.deadline, 'tf.io.loadWeights()');
    } catch (e) {
      return {error: {name: e.name, message: String(e.message || e)}};
    }
    const out = [];
    let i = 0;
    for (const [name, t] of Object.entries(tensors)) {
      const part = t.dtype === 'string' ? null : `${args.prefix || ''}weight${i++}.bin`;  // strings: not posted
      if (part) await env.post(part, valuesOf(t.dtype, await t.data()).bytes);
      out.push({name, dtype: t.dtype, shape: t.shape, part});
      t.dispose();
    }
    return {tensors: out};
  }

  // A user's own JavaScript (the tfjs_page fixture's evaluate): the body of an async function of (tf, args),
  // run where the steps run (a page, a worker, Node); what it returns must be JSON.
  const AsyncFunction = Object.getPrototypeOf(async function () {}).constructor;
  async function userScript(tf, env, args) {
    return {value: await new AsyncFunction('tf', 'args', args.source)(tf, args.args || {})};
  }

  return {steps: {save, load, fingerprint, describe, manage, loadWeights, userScript}, joinWeightData, withDeadline,
          postTensors};
});
