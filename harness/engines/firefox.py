"""Firefox: Playwright's own (Juggler) build, or Debian's Firefox ESR over WebDriver BiDi."""

from harness.engines.base import Build, EngineSpec

# Keep a closed network quiet and downloads silent.
_PREFS = {
    "app.update.enabled": False,
    "browser.shell.checkDefaultBrowser": False,
    "datareporting.policy.dataSubmissionEnabled": False,
    "network.captive-portal-service.enabled": False,
}

ENGINE = EngineSpec(
    name="firefox",
    builds={
        "playwright": Build(kind="playwright", driver="playwright", browser_type="firefox", prefs=_PREFS),
        "system": Build(
            kind="system",
            driver="playwright",
            browser_type="firefox",
            executable="/usr/bin/firefox-esr",
            channel="moz-firefox",  # stock Firefox speaks WebDriver BiDi, not Playwright's Juggler
            prefs=_PREFS,
            apt_packages=("firefox-esr",),
            notes=(
                "Playwright is pinned to 1.64.1: 1.65.x fails to create a context on Firefox ESR 153 over BiDi "
                "(Protocol error (emulation.setMediaFeaturesOverride): unknown command)."
            ),
        ),
    },
)
