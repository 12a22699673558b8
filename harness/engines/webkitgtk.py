"""What launching WebKitGTK's MiniBrowser through WebKitWebDriver takes on this machine, apart from
the generic W3C WebDriver driver (harness.engines.webdriver), which asks for it by the build's
`launcher = "webkitgtk"`. Measured on WebKitGTK 2.50.6 (Debian 12); the engine's facts are in
harness.engines.webkit (Build.notes).

* a private HOME whose XDG download dir (`$XDG_CONFIG_HOME/user-dirs.dirs`: the XDG_DOWNLOAD_DIR
  variable alone is ignored) is HOME/downloads, where the driver polls the page's downloads;
* an X display (MiniBrowser has no headless mode; the driver starts an Xvfb), with GTK kept off
  Wayland (it would prefer a Wayland display to our Xvfb);
* `--automation` (WebKitWebDriver needs it), and the build's args through Selenium's
  WebKitGTKOptions.add_argument: a set_capability("webkitgtk:browserOptions", ...) is overwritten by
  to_capabilities() and was silently dropped.
"""

from __future__ import annotations

import os
import shutil

from selenium import webdriver
from selenium.webdriver.webkitgtk.service import Service

EXECUTABLE = "WebKitWebDriver"


def environment(home: str, display: str | None) -> tuple[dict[str, str], str]:
    """The driver's environment for a private `home`, and the download directory it points to."""
    env = {**os.environ, "HOME": home, "XDG_CONFIG_HOME": os.path.join(home, "config")}
    downloads = os.path.join(home, "downloads")
    os.makedirs(downloads, exist_ok=True)
    os.makedirs(env["XDG_CONFIG_HOME"], exist_ok=True)
    with open(os.path.join(env["XDG_CONFIG_HOME"], "user-dirs.dirs"), "w") as f:
        f.write(f'XDG_DOWNLOAD_DIR="{downloads}"\n')
    if display is not None:
        env.pop("WAYLAND_DISPLAY", None)
        env.update(DISPLAY=display, GDK_BACKEND="x11")
    return env, downloads


def service(executable: str | None, env: dict[str, str], log_path: str) -> Service:
    return Service(
        executable_path=executable or shutil.which(EXECUTABLE),
        env=env,
        log_output=log_path,
        popen_kw={"start_new_session": True},  # its own process group, so that the browser can be killed too
    )


def new_session(svc: Service, args: tuple[str, ...]) -> webdriver.WebKitGTK:
    options = webdriver.WebKitGTKOptions()
    for arg in ("--automation", *args):
        options.add_argument(arg)
    options.set_capability("acceptInsecureCerts", True)
    return webdriver.WebKitGTK(options=options, service=svc)
