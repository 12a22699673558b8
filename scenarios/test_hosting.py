"""Every hosting profile x engine x model: the golden served the way the real web serves a model (CDN
redirects, signed and Firebase URLs, compression, wrong content types, partial CORS, credentials, a slow
link, a cut connection, HTML error pages, rate limits, a service worker's cache), loaded as a user's
code loads it, and either loaded bit for bit or refused with a message that names the failing URL and
status (harness.schemes.hosting). Test ids read `http-hosted-<model>-<engine>-hosting-<profile>`; run
them all with `-k hosting-`, one profile with `-k hosting-redirect`. The default matrix (the core zoo)
serves each profile one of the two models per engine, in turn (both models meet every profile);
`--zoo full` serves both everywhere.
"""

import pytest

from harness.schemes.hosting import PROFILES, HttpHosted
from harness.trip import roundtrip

SCHEME = HttpHosted()


@pytest.mark.conformance(schemes=[SCHEME], models=list(SCHEME.models), zoo_only=True, hostings=list(PROFILES),
                         sample="models")
async def test_hosting(scheme, model, hosting, engine_name, make_trip, known_findings):
    await roundtrip.conform(scheme.on(hosting), make_trip(model), known_findings, engine_name)
