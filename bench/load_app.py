"""The app bench/load.py serves with gunicorn: the product's app and the hand-written endpoints.

`gunicorn -c gunicorn.conf.py --pythonpath bench load_app:app`, from the repository's
root: the same server settings serve /api/v1/policy/ (FAB) and /bench/policy/
(bench/handwritten.py, with the API's rate-limit budget), so both are measured under
the same workers, threads and pool.
"""

from __future__ import annotations

import seed  # puts the repository on sys.path
from handwritten import create_blueprint

app = seed.build_app()
app.register_blueprint(create_blueprint(app, rate_limited=True))
