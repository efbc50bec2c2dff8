"""Gunicorn settings for the WMS web app: `gunicorn --config deploy/gunicorn.conf.py` serves `wsgi:app`.

Environment: WMS_BIND (host:port, default 127.0.0.1:8000), WMS_WORKERS (default 2 x CPUs + 1, at most 8),
WMS_THREADS (per worker, default 4), WMS_TIMEOUT (seconds, default 120), WMS_ACCESS_LOG (path or "-").
"""

import multiprocessing
import os
from pathlib import Path

# wsgi.py at the top of the checkout; found wherever gunicorn is started from.
chdir = str(Path(__file__).resolve().parent.parent)
wsgi_app = "wsgi:app"
bind = os.environ.get("WMS_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WMS_WORKERS", min(2 * multiprocessing.cpu_count() + 1, 8)))
# Threads keep a worker useful while one of its requests waits on a long-poll (print daemon claims).
worker_class = "gthread"
threads = int(os.environ.get("WMS_THREADS", 4))
# Above the longest long-poll of /api/v1/print, so a waiting claim is never killed as a hung worker.
timeout = int(os.environ.get("WMS_TIMEOUT", 120))
graceful_timeout = 30
keepalive = 5
# A worker is replaced after this many requests (a guard against slow leaks). Replacing one costs a second or two
# of CPU and its keep-alive connections, so not too often: at 2,000, 400 pickers scanning every 2 s replaced each
# of 3 workers every 30 s.
max_requests = 20000
max_requests_jitter = 2000
accesslog = os.environ.get("WMS_ACCESS_LOG", "-")
errorlog = "-"
loglevel = os.environ.get("WMS_LOG_LEVEL", "info")
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'
proc_name = "wms-web"
# gunicorn 27 opens a control socket under $HOME; nothing here uses it and the service has no writable home.
control_socket_disable = True

# Request limits, matched by deploy/nginx-wms.conf (large_client_header_buffers 4 8k): a request line or a header
# field nginx lets through fits here too. Long lines are real: bulk stock reads list many SKUs in the query string.
limit_request_line = 8190  # gunicorn's maximum (its default, 4094, refused bulk reads with an HTML 414)
limit_request_field_size = 8190
limit_request_fields = 100


def pre_request(worker, req):  # type: ignore[no-untyped-def]
    """Close the connection after a body over the app's limit: the app answers 413 without reading it.

    Left open, gunicorn would answer `Connection: keep-alive` and then drop the socket while draining the unread
    body, so a keep-alive client's next request on it would fail. Marked here, the 413 says `Connection: close`.
    """
    limit = getattr(worker.wsgi, "config", {}).get("MAX_CONTENT_LENGTH")
    length = next((value for name, value in req.headers if name == "CONTENT-LENGTH"), None)
    if limit is not None and length is not None and length.isdigit() and int(length) > limit:
        req.force_close()
