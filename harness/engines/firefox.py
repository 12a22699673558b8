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
            # Over BiDi Playwright reports no download events for blob downloads: the driver launches with
            # downloads_path=DIR and polls DIR, where Firefox writes them under their own names.
            downloads="directory",
            notes=(
                "Playwright is pinned to 1.64.1: 1.65.x fails to create a context on Firefox ESR 153 over BiDi "
                "(Protocol error (emulation.setMediaFeaturesOverride): unknown command). "
                "Downloads: page.on('download') never fires over BiDi; with downloads_path=DIR both files of a "
                "TF.js downloads:// save (two back-to-back <a download> blob clicks) land in DIR as m.json and "
                "m.weights.bin within 0.3 s, no prompt. launch_persistent_context keeps localStorage and "
                "IndexedDB across a close and relaunch on the same profile dir."
            ),
        ),
    },
)
