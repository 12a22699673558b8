"""Chromium: Playwright over CDP, with Playwright's build or Debian's `chromium`."""

from harness.engines.base import Build, EngineSpec

# Measured (Debian Chromium 156.0.8078.114, headless, default flags): WebGL 2 on SwiftShader, renderer
# "ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero) (0x0000C0DE)), SwiftShader driver)", with
# EXT_color_buffer_float. WebGPU: navigator.gpu exists on the harness page (a secure context: http on
# 127.0.0.1), but requestAdapter() resolves null with default flags and with --enable-unsafe-swiftshader;
# with --enable-unsafe-webgpu it gives the adapter {vendor "google", architecture "swiftshader"} and a
# device, WebGL unchanged. So webgpu pages get a browser launched with that flag (Build.webgpu_args).
WEBGPU_ARGS = ("--enable-unsafe-webgpu",)

# Without these, Chromium keeps dialling Google hosts that this kind of machine refuses.
_QUIET = ("--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync",
          # The harness's own TLS site (a certificate made at start-up): Playwright's ignore_https_errors covers
          # pages, not service workers (microsoft/playwright#27768; measured: an https:// save from a service
          # worker failed "TypeError: Failed to fetch"), so the browser itself accepts it.
          "--ignore-certificate-errors")

# Measured (Debian Chromium 156.0.8078.114 under Playwright, an off-the-record context and a persistent
# profile alike, the second site as 127.0.0.2 or as localhost): a cross-site frame gets no storage at all.
# localStorage: "SecurityError: Failed to read the 'localStorage' property from 'Window': Access is denied
# for this document."; indexedDB.open: "UnknownError: The user denied permission to access the database."
# (Firefox ESR 153 and WebKitGTK 2.50 give such a frame its own partition.) Not declared here: each
# iframe-cross-site row measures what its engine denies (harness.contexts.denied), a remote build's too.

# Every Playwright context of Chromium is an off-the-record profile (Target.createBrowserContext), the kind
# incognito windows use: a private window would not be another place to run, so its window rows are the ones.
NO_PRIVATE = ("not a separate context here: every Playwright context of Chromium is already off the record "
              "(Target.createBrowserContext, incognito's kind of profile), so its window rows run there")

ENGINE = EngineSpec(
    name="chromium",
    builds={
        "playwright": Build(kind="playwright", driver="playwright", browser_type="chromium", args=_QUIET, quota="cdp",
                            webgpu_args=WEBGPU_ARGS, no_private=NO_PRIVATE),
        "system": Build(
            kind="system",
            driver="playwright",
            browser_type="chromium",
            executable="/usr/bin/chromium",
            # --no-sandbox: CI runs as root, and Chromium refuses to sandbox as root.
            args=("--no-sandbox", *_QUIET),
            apt_packages=("chromium",),
            quota="cdp",
            webgpu_args=WEBGPU_ARGS,
            no_private=NO_PRIVATE,
            notes=(
                "Downloads: page.on('download') reports both files of a TF.js downloads:// save (two "
                "back-to-back <a download> blob clicks), no multiple-downloads prompt in headless mode; "
                "expect_download would see only the first. launch_persistent_context keeps localStorage and "
                "IndexedDB across a close and relaunch on the same profile dir. "
                "Quota: Storage.overrideQuotaForOrigin works on a page-level CDP session (a browser-level "
                "session fails). In a Playwright context (off the record) it caps each IndexedDB "
                "transaction, not the total: 64 MiB written as 1 MiB puts under a 4 MB override all "
                "committed, estimate() then reported usage 81920 and quota 10 GiB (the override is not shown)."
            ),
        ),
    },
)
