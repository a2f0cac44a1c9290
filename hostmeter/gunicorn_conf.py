"""gunicorn settings for the panel: `gunicorn -c python:hostmeter.gunicorn_conf`.

`hostmeter serve` uses them; so can a production unit (docs/deployment.md). Options on
the command line or in GUNICORN_CMD_ARGS (--bind, --workers, --threads …) win over these.
"""

wsgi_app = "hostmeter.wsgi:application"
bind = ["127.0.0.1:8000"]

# Threaded workers: a client that sends its request slowly holds one thread, not a whole
# worker process, and the worker keeps answering its heartbeat meanwhile (a sync worker
# is blocked, and killed after `timeout`). 2 × 8 threads stay responsive with a few slow
# clients; many of them are the reverse proxy's job (nginx buffers request bodies).
worker_class = "gthread"
workers = 2
threads = 8
# a worker silent this long is restarted; with gthread that is a stuck worker process,
# never a slow request
timeout = 30
# idle keep-alive connections wait in the worker's poller, not in a thread
keepalive = 5
graceful_timeout = 10

accesslog = "-"
# the control socket's default path ($HOME/.gunicorn/gunicorn.ctl) is shared by every
# gunicorn of the user: two panels on one machine would take it from each other
control_socket_disable = True
