"""Running the app under gunicorn, the production WSGI server, from ``sovready serve``."""

from __future__ import annotations

from pathlib import Path

from gunicorn.app.base import BaseApplication

from . import create_app


class _Server(BaseApplication):
    def __init__(self, app, options: dict):
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        return self.application


def run(host: str, port: int, instance: Path, workers: int) -> None:
    """Create the app (migrating the database) once, then serve it with gunicorn workers."""
    app = create_app(instance_path=instance)
    print(f"sovready: serving on http://{host}:{port} (database {app.config['DATABASE']})")
    _Server(app, {"bind": f"{host}:{port}", "workers": workers, "worker_class": "gthread",
                  "threads": 4, "accesslog": "-", "timeout": 60}).run()
