"""The pytest plugin's parts, each a plugin module of its own (registered by harness/plugin.py):

    options      the command line (group "TF.js io conformance")
    matrix       the run's state, the engine x scheme x model parametrisation, --shard, --run-large
    fixtures     the fixture ladder: TF.js build -> harness server -> engine pool -> engine -> page -> trip
    rows         one conformance row per test, built from its phases (harness.pytest.rows.RowRecorder)
    artifacts    what a failed row leaves behind (harness.pytest.artifacts.ArtifactsRecorder)
    session      the end of the run: conformance.json, report.html, the matrix, baseline, expectations
    junit        Surefire's flakyFailure for intermittent rows in the JUnit XML
"""
