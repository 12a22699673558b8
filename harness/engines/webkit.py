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
            apt_packages=("webkit2gtk-driver", "xvfb"),
            notes="TODO",
        ),
    },
    run_info_extras={"webkit_port": "gtk"},
)
