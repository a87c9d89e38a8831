package ui

// RunChromium lets the external tests (package ui_test, which may import the
// sidecar that imports this package) load pages in the same headless
// Chromium, installed the same way.
var RunChromium = runChromium
