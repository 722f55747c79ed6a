"""The dashboard: HTML pages and the JSON API they read, served by `seed-hub serve`."""
