"""Browser tests in real Chromium (Playwright) against a live server."""
