"""Benchmarks: each prints its numbers beside their goals. Run from the repository root:
`python -m benchmarks.app` (the explorer's heavy steps) and `python -m benchmarks.load` (the app
in headless Chromium, cold and with many visitors)."""
