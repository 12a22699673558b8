"""The harness server: one per pytest session, on 127.0.0.1 and a free port (`--server-bind ADDR` and
`--server-host NAME` for browsers on other machines: harness.engines.remote).

On 127.0.0.1 it also listens on 127.0.0.2 (`cross_site_url`): another site, whose frames are third parties.

It serves the harness page, the page-side JS, the TF.js bundle and `fixtures/`, and receives
what a page step posts back (binary bodies, never base64 through the driver):

    GET  /page?tfjs=VERSION     the harness page, loading that TF.js build (&backend=, &context=: harness.contexts)
    GET  /worker.js?tfjs=VERSION  a worker's script: that TF.js build and the harness steps (harness/js/worker_host.js)
    GET  /js/NAME               page-side JavaScript (harness/js/)
    GET  /clear-site-data       a response with Clear-Site-Data: "storage" (harness.schemes.eviction)
    GET  /tfjs/VERSION/FILE     the TF.js UMD bundle
    GET  /fixtures/PATH         golden artifacts (any origin may read them, as from a CDN)
    POST /results/TOKEN/NAME    one artifact of one step; TOKEN must have been opened by `expect()`
"""

from harness.server.app import HarnessServer

__all__ = ["HarnessServer"]
