"""Browser tests share the machine with gunicorn, PostgreSQL, CUPS and the print daemon: on a loaded CI box a
screen may take seconds to follow the server's answer, so Playwright's assertions wait up to 20 s (not 5)."""

from playwright.sync_api import expect

expect.set_options(timeout=20_000)
