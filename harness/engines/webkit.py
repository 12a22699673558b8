"""WebKit: Playwright's own WebKit build, or Debian's WebKitGTK through its W3C WebDriver."""

from harness.engines.base import Build, EngineSpec

# Measured on WebKitGTK 2.50.6 (Debian 12).
NO_PERSISTENT_PROFILE = (
    "WebKitGTK through WebKitWebDriver keeps no website data across sessions: WebKitWebDriver always "
    "starts MiniBrowser with --automation, and in automation mode MiniBrowser uses an ephemeral website data "
    "manager. Measured: with the same private HOME (XDG_DATA_HOME unset, so ~/.local/share) for two "
    "sessions, localStorage 'k' and IndexedDB 'db' written in the first were gone in the second, and "
    "nothing was written under HOME but .cache/dconf and the GStreamer registry. MiniBrowser --help-all "
    "offers no data or profile directory (only --cookies-file for cookies, --session-file for tabs, "
    "-p/--private). Not tried: WebKitWebDriver --target (attach to a browser started elsewhere) or a "
    "browserOptions binary other than MiniBrowser (no other WebKitGTK browser is installed)."
)

NO_QUOTA_PLAYWRIGHT = "Playwright has no quota override for WebKit (no Storage.overrideQuotaForOrigin, no prefs)"
NO_QUOTA_GTK = (
    "no way to set a quota in WebKitGTK through WebKitWebDriver + MiniBrowser (measured, 2.50.6): "
    "MiniBrowser --help-all and its 472 --features have no quota or data-directory option, the library "
    "reads no quota environment variable, and WebKitWebsiteDataManager's origin-storage-ratio is only "
    "settable by an embedding app and is ignored for ephemeral data anyway (automation mode keeps data "
    "in memory, so a small filesystem changes nothing). The ephemeral quota is 1000 MiB per origin and "
    "caps each write, not the total (4 x 300 MiB were stored); after the first quota error the origin's "
    "quota drops to 5 MiB for the rest of the browser session (WebKitGTK answers the quota-increase "
    "request with a fixed ~5 MB)."
)

# Measured on WebKitGTK 2.50.6 under Xvfb: WebGL 2.0, with EXT_color_buffer_float; the renderer is masked
# ("Apple GPU": WebKit reports a fixed string, even through WEBGL_debug_renderer_info); navigator.gpu absent.
NO_WEBGPU_GTK = "navigator.gpu is absent in WebKitGTK 2.50.6 (MiniBrowser under Xvfb, default features; measured)"
NO_WEBGPU_PLAYWRIGHT = "not measured on Playwright's WebKit build (not installed here); WebGPU is off by default in it"

# Measured (WebKitGTK 2.50.6, MiniBrowser under Xvfb): OffscreenCanvas exists in a dedicated worker, and its
# getContext('webgl2') and getContext('webgl') both return null (in the window too; a <canvas> gives WebGL 2).
NO_WORKER_WEBGL_GTK = ("a worker gets no WebGL in WebKitGTK 2.50.6 here: OffscreenCanvas exists, and its getContext('webgl2') "
                       "and getContext('webgl') return null (measured in a dedicated worker)")

NO_PRIVATE_GTK = ("not a separate context here: MiniBrowser in automation mode (as WebKitWebDriver starts it) "
                  "already runs on an ephemeral website data manager, the one its --private gives (see "
                  "no_persistent_profile), so its window rows run there")

ENGINE = EngineSpec(
    name="webkit",
    builds={
        "playwright": Build(kind="playwright", driver="playwright", browser_type="webkit", no_quota=NO_QUOTA_PLAYWRIGHT,
                            no_webgpu=NO_WEBGPU_PLAYWRIGHT),
        "system": Build(
            kind="system",
            driver="webdriver",
            browser_type="webkit",
            executable="/usr/bin/WebKitWebDriver",
            needs_display=True,
            launcher="webkitgtk",  # harness.engines.webkitgtk: private HOME, XDG download dir, Xvfb, --automation
            downloads="directory",  # the XDG download dir of the driver's private HOME
            no_quota=NO_QUOTA_GTK,
            no_persistent_profile=NO_PERSISTENT_PROFILE,
            no_private=NO_PRIVATE_GTK,
            # WebDriver's send_keys adds to the input's selection (measured: model.json chosen twice)
            file_choice="append",
            no_webgpu=NO_WEBGPU_GTK,
            no_worker_webgl=NO_WORKER_WEBGL_GTK,
            apt_packages=("webkit2gtk-driver", "xvfb"),
            version_command=("dpkg-query", "-W", "-f=${Version}", "webkit2gtk-driver"),  # no --version flag
            notes=(
                "Build args reach MiniBrowser through Selenium's WebKitGTKOptions.add_argument (a "
                "set_capability('webkitgtk:browserOptions', ...) is overwritten by to_capabilities() and "
                "was silently dropped). navigator.storage exists with --features=+StorageAPI,+StorageAPIEstimate "
                "(not the default, so not used). "
                "Debian's WebKitGTK 2.50 MiniBrowser, driven by WebKitWebDriver (W3C WebDriver, via Selenium). "
                "No headless mode: it needs an X display, and without one New Session hangs with no error "
                "(MiniBrowser logs 'cannot open display' to the driver log and WebKitWebDriver never answers), so "
                "the driver starts a private Xvfb (-displayfd) and puts a deadline on every call. "
                "Stopping WebKitWebDriver does not stop MiniBrowser or its WebKit*Process children (they were "
                "seen orphaned, still running); the driver runs in its own process group, which stop() kills. "
                "With --automation all website data is ephemeral: nothing is written under HOME, and a new "
                "session starts empty even with the same HOME, so 'survives a browser restart' cannot be tested; "
                "within a session localStorage and IndexedDB do persist across navigations, so open() clears "
                "them and checks. navigator.storage is missing (no estimate(), no persist()). browserVersion is "
                "the WebKitGTK version; the user agent is frozen (Version/60.5 Safari/605.1.15) and says "
                "nothing about it. Downloads go to the XDG download dir, set in $XDG_CONFIG_HOME/user-dirs.dirs "
                "(the XDG_DOWNLOAD_DIR environment variable alone is ignored). "
                "Two <a download> clicks in a row usually lose the FIRST file, with no prompt or error (one "
                "window, nothing to answer): a TF.js downloads:// save (json anchor click, setTimeout 0, weights "
                "anchor click) delivered only m.weights.bin in 9 of 12 fresh pages through this driver and 7 of 7 "
                "saves in one page, both files otherwise; plain blob-anchor clicks with no gap delivered only "
                "the second file in 5 of 6 tries, and both files with a gap of 10, 50 or 200 ms (3 of 3 each). "
                "No persistent profile: the harness starts MiniBrowser with --automation (WebKitWebDriver needs "
                "it), automation mode uses an ephemeral website data manager, and "
                "MiniBrowser has no data-directory option (--help-all: only --cookies-file, --session-file, "
                "--private); the same HOME across two sessions kept neither localStorage nor IndexedDB and "
                "nothing was written under ~/.local/share, so open_persistent raises NotImplementedError."
            ),
        ),
    },
    run_info_extras={"webkit_port": "gtk"},
)
