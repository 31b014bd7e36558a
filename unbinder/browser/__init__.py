"""The browser: finding and launching Chromium, guarded contexts, the domain guard, replicas."""
