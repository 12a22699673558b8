"""WebKit: Playwright's own WebKit build, or Debian's WebKitGTK through its W3C WebDriver."""

from harness.engines.base import Build, EngineSpec

ENGINE = EngineSpec(
    name="webkit",
    builds={
        "playwright": Build(kind="playwright", driver="playwright", browser_type="webkit"),
        "system": Build(
            kind="system",
            driver="webdriver",
            browser_type="webkit",
            executable="/usr/bin/WebKitWebDriver",
            needs_display=True,
            downloads="directory",  # the XDG download dir of the driver's private HOME
            apt_packages=("webkit2gtk-driver", "xvfb"),
            version_command=("dpkg-query", "-W", "-f=${Version}", "webkit2gtk-driver"),  # no --version flag
            notes=(
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
                "No persistent profile: WebKitWebDriver always starts MiniBrowser with --automation (even when "
                "browserOptions args are empty), automation mode uses an ephemeral website data manager, and "
                "MiniBrowser has no data-directory option (--help-all: only --cookies-file, --session-file, "
                "--private); the same HOME across two sessions kept neither localStorage nor IndexedDB and "
                "nothing was written under ~/.local/share, so open_persistent raises NotImplementedError."
            ),
        ),
    },
    run_info_extras={"webkit_port": "gtk"},
)
