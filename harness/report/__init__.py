"""Results as data: the conformance document and every reader of it (text, HTML, Markdown, baseline, merge)."""
