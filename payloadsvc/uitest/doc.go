// Package uitest proves, in a real browser, what a codec server is for: a person
// opens the Temporal UI and reads a payload that was offloaded.
//
// The test starts the Temporal dev server with its web UI and
// --ui-codec-endpoint pointing at a payloadsvc handler, runs workflows whose
// inputs are offloaded by the codec into the store that handler serves, and
// drives headless Chromium (browse.mjs, through npm playwright-core) to each
// workflow's history page. It checks that
//
//   - a 3 MiB input is shown decoded (its marker is on the page);
//   - with the UI's origin missing from the CORS allowlist, the UI shows its
//     codec error banner instead, the marker is absent, and payloadsvc logged
//     the refused preflight;
//   - a 40 MiB input is shown as a preview (size, digest, first KiB), whose
//     signed download link serves the whole payload, and is refused (403) with
//     a changed signature or once expired;
//   - with SSO (TestSSOBrowserCORS), a page on the UI's origin makes the UI's
//     credentialed codec call with a JWT in Authorization and the ID token in
//     Authorization-Extras: the browser accepts the CORS answers and the payload is
//     decoded, a JWT for another namespace gets a 403 the page can read, and from an
//     origin not allowed the browser blocks the call.
//
// A screenshot of every page is saved in the test's artifact directory
// (testing.T.ArtifactDir) and its path logged. That directory is temporary unless
// go test runs with -artifacts, as `make test` does: then the screenshots are
// kept under artifacts/ in the repository.
//
// Tools, all installed by `make tools`: the pinned Temporal CLI (see testenv),
// node, Chromium ($LONGHAUL_CHROMIUM, default /usr/bin/chromium) and
// playwright-core ($LONGHAUL_PLAYWRIGHT_DIR, a directory holding
// node_modules/playwright-core; default: the newest playwright-core-* directory
// in the tool cache). Without them the test is skipped, except with CI=true,
// where it fails.
package uitest
