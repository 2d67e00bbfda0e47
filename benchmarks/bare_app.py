"""The floor for bench_http.py: a Flask app whose only view returns "ok" (gunicorn bare_app:app)."""

from flask import Flask

app = Flask("bare")


@app.get("/ok")
def ok():
    return "ok"
