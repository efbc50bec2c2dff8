"""Gunicorn settings for the WMS web app: `gunicorn --config deploy/gunicorn.conf.py 'wms:create_app()'`.

Environment: WMS_BIND (host:port, default 127.0.0.1:8000), WMS_WORKERS (default 2 x CPUs + 1, at most 8),
WMS_THREADS (per worker, default 4), WMS_TIMEOUT (seconds, default 120), WMS_ACCESS_LOG (path or "-").
"""

import multiprocessing
import os

wsgi_app = "wms:create_app()"
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
