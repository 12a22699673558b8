// Steps of the hosting profiles (harness.schemes.hosting) that are not a TF.js call: what the app does
// around its model load, as a user's code does it. Shared by the browser page and Node; each step is
// `async (tf, env, args) => result`.
(function (root, factory) {
  if (typeof module === 'object' && module.exports) module.exports = factory();
  else root.harnessHosting = factory();
})(typeof self !== 'undefined' ? self : this, function () {
  'use strict';

  // A login on the model's host: its answer sets the session cookie (a credentialed CORS request).
  async function hostingSignIn(tf, env, args) {
    const res = await fetch(args.url, {credentials: 'include'});
    return {status: res.status};
  }

  // The app's service worker: {op: "register"} registers args.script for args.scope and waits until it
  // controls this page; {op: "unregister"} removes it and its caches. `supported: false` where the scope has
  // no navigator.serviceWorker (Node, a worker), with what it lacks.
  async function hostingServiceWorker(tf, env, args) {
    const container = typeof navigator !== 'undefined' ? navigator.serviceWorker : undefined;
    if (!container) return {supported: false, why: typeof navigator === 'undefined' ? 'no navigator' : 'no navigator.serviceWorker'};
    if (args.op === 'unregister') {
      const registrations = await container.getRegistrations();
      await Promise.all(registrations.map((r) => r.unregister()));
      const names = await caches.keys();
      await Promise.all(names.map((n) => caches.delete(n)));
      return {supported: true, unregistered: registrations.length, caches: names};
    }
    const controlled = new Promise((resolve) => {
      if (container.controller) resolve();
      else container.addEventListener('controllerchange', () => resolve(), {once: true});
    });
    const registration = await container.register(args.script, {scope: args.scope});
    await controlled;
    return {supported: true, scope: registration.scope, controller: container.controller.scriptURL};
  }

  return {steps: {hostingSignIn, hostingServiceWorker}};
});
