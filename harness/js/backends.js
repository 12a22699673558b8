// Setting a page's (or Node host's) TF.js backend, and saying what it really is: shared by page.js and
// node_host.js. `config` is harness.backends' record: {name, base, flags, wasmPaths}.
(function (root, factory) {
  if (typeof module === 'object' && module.exports) module.exports = factory();
  else root.harnessBackends = factory();
})(typeof self !== 'undefined' ? self : this, function () {
  'use strict';

  // The flags first (they decide how the backend sets itself up), then the backend; a backend that does
  // not come up is an error naming it, never a silent fallback to another.
  async function use(tf, config) {
    for (const [flag, value] of Object.entries(config.flags || {})) tf.env().set(flag, value);
    if (config.base === 'wasm' && config.wasmPaths && tf.wasm && tf.wasm.setWasmPaths) {
      tf.wasm.setWasmPaths(config.wasmPaths);
    }
    let ok = false;
    try {
      ok = await tf.setBackend(config.base);
    } catch (e) {
      throw new Error(`TF.js backend ${config.base} failed to start here: ${e && e.message || e}`);
    }
    if (!ok || tf.getBackend() !== config.base) {
      throw new Error(`TF.js backend ${config.base} is not available here (tf.getBackend() is ${tf.getBackend()})`);
    }
    await tf.ready();
    const device = config.base === 'webgpu' && tf.backend().device;
    if (device && device.lost) {
      device.lost.then((info) => { lost = {reason: info.reason, message: info.message}; });
    }
  }

  // Whether the webgpu backend's GPUDevice was lost, and why (what the engine said): a step that failed
  // on webgpu carries it, so a lost device is told from a TF.js error. null while it is not.
  let lost = null;
  function deviceLost() {
    return lost;
  }

  function webglFacts() {
    if (typeof document === 'undefined') return null;
    const canvas = document.createElement('canvas');
    for (const kind of ['webgl2', 'webgl']) {
      const gl = canvas.getContext(kind);
      if (!gl) continue;
      const debug = gl.getExtension('WEBGL_debug_renderer_info');
      return {
        context: kind, version: gl.getParameter(gl.VERSION),
        renderer: debug ? gl.getParameter(debug.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER),
        vendor: debug ? gl.getParameter(debug.UNMASKED_VENDOR_WEBGL) : gl.getParameter(gl.VENDOR),
        colorBufferFloat: !!gl.getExtension('EXT_color_buffer_float'),
      };
    }
    return null;
  }

  async function webgpuFacts() {
    try {
      const adapter = await navigator.gpu.requestAdapter();
      if (!adapter) return {adapter: null};
      const info = adapter.info || (adapter.requestAdapterInfo ? await adapter.requestAdapterInfo() : {});
      return {adapter: {vendor: info.vendor, architecture: info.architecture, device: info.device,
                        description: info.description},
              shaderF16: adapter.features.has('shader-f16')};
    } catch (e) {
      return {error: String(e && e.message || e)};
    }
  }

  async function flag(tf, name) {
    try {
      return await tf.env().getAsync(name);
    } catch (e) {
      return `unknown (${e && e.message || e})`;
    }
  }

  // What the backend is: the same keys for every engine, null where they do not apply.
  async function describe(tf, config) {
    const out = {backend: tf.getBackend(), variant: config && config.name, flags: (config && config.flags) || {}};
    if (out.backend === 'webgl') {
      out.webgl = webglFacts();
      for (const name of ['WEBGL_VERSION', 'WEBGL_RENDER_FLOAT32_CAPABLE', 'WEBGL_RENDER_FLOAT32_ENABLED',
                          'WEBGL_FORCE_F16_TEXTURES', 'WEBGL_PACK']) {
        out[name] = await flag(tf, name);
      }
    }
    if (out.backend === 'wasm') {
      out.WASM_HAS_SIMD_SUPPORT = await flag(tf, 'WASM_HAS_SIMD_SUPPORT');
      out.WASM_HAS_MULTITHREAD_SUPPORT = await flag(tf, 'WASM_HAS_MULTITHREAD_SUPPORT');
      out.crossOriginIsolated = typeof crossOriginIsolated === 'undefined' ? null : crossOriginIsolated;
      out.threaded = out.WASM_HAS_MULTITHREAD_SUPPORT === true && out.WASM_HAS_SIMD_SUPPORT === true;
      out.binary = out.threaded ? 'tfjs-backend-wasm-threaded-simd.wasm'
        : out.WASM_HAS_SIMD_SUPPORT === true ? 'tfjs-backend-wasm-simd.wasm' : 'tfjs-backend-wasm.wasm';
    }
    out.navigatorGpu = typeof navigator !== 'undefined' && 'gpu' in navigator;
    if (out.backend === 'webgpu') out.webgpu = await webgpuFacts();
    return out;
  }

  return {use, describe, deviceLost};
});
