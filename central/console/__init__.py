"""The officers' web console (issue 19): server-rendered pages under /console/ for the people who
work a centre's counters and dossiers.

- ``accounts``: accounts (hashed passwords, roles, lock-out), sessions, the audit log;
- ``auth``: the logged-in ``User`` (a FastAPI dependency), the session cookie, CSRF and origin checks;
- ``pages``: jinja2 rendering (autoescaped) with the headers every page carries;
- ``routes``: ``register(app, central, deps)``, listed in ``central.app.FEATURES``.
"""
