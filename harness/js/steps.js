// Steps shared by the browser page and Node: each is `async (tf, env, args) => result`.
// `env` is what differs between hosts:
//   env.post(name, bytes)      send one artifact back to the harness (bytes: ArrayBuffer | Uint8Array | string)
//   env.fetchBytes(url)        read a fixture as an ArrayBuffer
//   env.inspectStorage(scheme, path)  post what the scheme left in storage (browser only; may be absent)
// A step throws on failure; the error says which phase failed (error.phase).
(function (root, factory) {
  if (typeof module === 'object' && module.exports) module.exports = factory();
  else root.harnessSteps = factory();
})(typeof self !== 'undefined' ? self : this, function () {
  'use strict';

  const encoder = new TextEncoder();

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

  // All weights as one ArrayBuffer (TF.js >= 4.10 may hand over an ArrayBuffer[]).
  function joinWeightData(tf, weightData) {
    if (weightData == null) return new ArrayBuffer(0);
    if (Array.isArray(weightData)) return tf.io.CompositeArrayBuffer.join(weightData);
    return weightData;
  }

  // The artifacts a loaded model would save, captured with tf.io.withSaveHandler.
  async function captureArtifacts(tf, model) {
    let captured = null;
    await model.save(tf.io.withSaveHandler(async (artifacts) => {
      captured = artifacts;
      return {modelArtifactsInfo: {dateSaved: new Date(), modelTopologyType: 'JSON'}};
    }));
    const {weightData, ...rest} = captured;
    return {json: rest, weights: joinWeightData(tf, weightData)};
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

  function typedArray(dtype, buffer) {
    const Type = {float32: Float32Array, int32: Int32Array, bool: Uint8Array}[dtype];
    if (!Type) throw new Error(`unsupported input dtype ${dtype}`);
    return new Type(buffer);
  }

  // Load the golden over http, save it through the scheme, load it back through the scheme,
  // predict on the golden inputs, and post back everything that came back.
  async function roundtrip(tf, env, args) {
    const timings = {};
    const result = {timings, parts: []};
    const post = async (name, bytes) => { await env.post(name, bytes); result.parts.push(name); };

    const golden = await phase('load-golden', timings, () => tf.loadLayersModel(args.fixture));
    if (args.flipBit) flipBit(tf, golden, args.flipBit);
    const saveResult = await phase('save', timings, () => golden.save(args.saveUrl));
    result.saveResult = saveResult;
    if (args.inspect && env.inspectStorage) {
      await phase('inspect-storage', timings, () => env.inspectStorage(args.inspect, post));
    }
    const loaded = await phase('load', timings, () => tf.loadLayersModel(args.loadUrl));
    await phase('predict', timings, async () => {
      const xs = [];
      for (const spec of args.inputs) {
        xs.push(tf.tensor(typedArray(spec.dtype, await env.fetchBytes(spec.url)), spec.shape, spec.dtype));
      }
      const ys = [].concat(loaded.predict(xs.length === 1 ? xs[0] : xs));
      result.predictions = [];
      for (let j = 0; j < ys.length; j++) {
        const name = `prediction${j}.bin`;
        const data = await ys[j].data();
        await post(name, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
        result.predictions.push({output: j, part: name, shape: ys[j].shape, dtype: ys[j].dtype});
      }
    });
    await phase('capture', timings, async () => {
      const {json, weights} = await captureArtifacts(tf, loaded);
      await post('loaded.json', encoder.encode(JSON.stringify(json)));
      await post('loaded.weights.bin', weights);
    });
    return result;
  }

  return {steps: {roundtrip}, captureArtifacts, joinWeightData};
});
