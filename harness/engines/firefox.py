"""Firefox: Playwright's own (Juggler) build, or Debian's Firefox ESR over WebDriver BiDi."""

from harness.engines.base import Build, EngineSpec

# Keep a closed network quiet and downloads silent.
_PREFS = {
    "app.update.enabled": False,
    "browser.shell.checkDefaultBrowser": False,
    "datareporting.policy.dataSubmissionEnabled": False,
    "network.captive-portal-service.enabled": False,
}

# Quota (Build.quota == "prefs"): Firefox reads its temporary-storage limit (KiB) once, at launch, so a
# page with a quota gets a browser launched with it (harness.engines.playwright keeps one per quota).
FIXED_LIMIT = "dom.quotaManager.temporaryStorage.fixedLimit"
MIN_GROUP_KIB = 10 * 1024  # QuotaManager::GetGroupLimit: a group may always use 10 MiB (if the limit allows)


# WebGL (Build.webgl == "headed"), measured on Firefox ESR 153.8: headless gives no WebGL context at all,
# even with webgl.force-enabled; headed under Xvfb gives WebGL 2.0 on Mesa's llvmpipe, with
# EXT_color_buffer_float. So the driver runs webgl pages in a headed browser of their own.
# Private browsing (the private-window context): a browser launched with browser.privatebrowsing.autostart,
# whose every window is private. Measured on ESR 153.8 under Playwright over BiDi: in such a browser
# navigator.storage.persist() answers false at once, where a normal window's prompts and never answers;
# localStorage and IndexedDB both work (a 1 MB IndexedDB put committed).
PRIVATE_PREFS = {"browser.privatebrowsing.autostart": True}

NO_WEBGPU = "navigator.gpu is absent in Firefox ESR 153.8 here, headless and headed under Xvfb (measured)"


def fixed_limit_kib(quota: int) -> int:
    """The fixedLimit (KiB) that gives one origin's group `quota` bytes: the group limit is
    min(limit, max(limit / 5, 10 MiB)), so below 10 MiB the limit itself, above it 5 x quota."""
    kib = max(quota // 1024, 1)
    return kib if kib <= MIN_GROUP_KIB else 5 * kib


def group_limit(limit_kib: int) -> int:
    """The bytes one origin's group may use under a fixedLimit of `limit_kib`."""
    return min(limit_kib, max(limit_kib // 5, MIN_GROUP_KIB)) * 1024


ENGINE = EngineSpec(
    name="firefox",
    builds={
        "playwright": Build(kind="playwright", driver="playwright", browser_type="firefox", prefs=_PREFS, quota="prefs",
                            webgl="headed", no_webgpu=NO_WEBGPU,  # as the system build (not measured here)
                            private_prefs=PRIVATE_PREFS),
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
            # WebDriver BiDi observes every HTTP request body: 64 MB posted by fetch went at 53 MB/s under
            # Playwright (bare Firefox: 124), over a WebSocket at 177 (bare: 215); Chromium: fetch 208, ws 37.
            upload="websocket",
            quota="prefs",
            webgl="headed",
            no_webgpu=NO_WEBGPU,
            private_prefs=PRIVATE_PREFS,
            notes=(
                "Playwright is pinned to 1.64.1: 1.65.x fails to create a context on Firefox ESR 153 over BiDi "
                "(Protocol error (emulation.setMediaFeaturesOverride): unknown command). "
                "Downloads: page.on('download') never fires over BiDi; with downloads_path=DIR both files of a "
                "TF.js downloads:// save (two back-to-back <a download> blob clicks) land in DIR as m.json and "
                "m.weights.bin within 0.3 s, no prompt. launch_persistent_context keeps localStorage and "
                "IndexedDB across a close and relaunch on the same profile dir. "
                "Quota: dom.quotaManager.temporaryStorage.fixedLimit (KiB) is read at launch, so each quota "
                "needs a browser of its own; it is the global limit, and an origin's group gets "
                "min(limit, max(limit / 5, 10 MiB)) (QuotaManager::GetGroupLimit), so up to 10 MiB the "
                "limit is the quota and above it 5 x the quota. estimate() reports it; the limit is "
                "cumulative (filling with 1 MiB puts under 4,096,000 bytes stopped at 4,095,506)."
            ),
        ),
    },
)
