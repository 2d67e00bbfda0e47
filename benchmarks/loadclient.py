"""A small bounded HTTP load client (threads, http.client) and the form scraping bench_http needs.

Each of `concurrency` threads keeps one connection and reuses it while the server allows
(gunicorn's sync workers close every connection after its response, so there each request
opens a new one, as a browser talking to such a server would). Only the standard library.
"""

from __future__ import annotations

import http.client
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlencode


@dataclass
class Request:
    method: str
    path: str
    cookie: str = ""
    body: bytes | None = None
    expect: int = 200


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes


def fetch(port: int, req: Request, conn: http.client.HTTPConnection | None = None
          ) -> tuple[Response, http.client.HTTPConnection | None]:
    """One request; returns the response and the connection if it may be reused."""
    if conn is None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = {"Host": f"127.0.0.1:{port}"}
    if req.cookie:
        headers["Cookie"] = req.cookie
    if req.body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn.request(req.method, req.path, body=req.body, headers=headers)
    resp = conn.getresponse()
    body = resp.read()
    if resp.will_close:
        conn.close()
        conn = None
    return Response(resp.status, resp.headers, body), conn


@dataclass
class RoundResult:
    requests: int
    seconds: float
    latencies: list[float] = field(default_factory=list)
    bytes: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def run_round(port: int, next_request: Callable[[], Request | None], concurrency: int,
              duration: float | None) -> RoundResult:
    """Send requests from `concurrency` threads until `duration` seconds have passed (or,
    with duration None, until next_request() returns None). A request under way at the
    deadline is finished and counted; throughput is requests over the time until the last
    one ended."""
    lock = threading.Lock()
    result = RoundResult(0, 0.0)
    start = time.perf_counter()
    deadline = start + duration if duration else None

    def worker() -> None:
        conn = None
        latencies, sizes, errors = [], [], []
        while deadline is None or time.perf_counter() < deadline:
            with lock:
                req = next_request()
            if req is None:
                break
            t0 = time.perf_counter()
            try:
                resp, conn = fetch(port, req, conn)
            except (OSError, http.client.HTTPException) as exc:
                errors.append(f"{req.method} {req.path}: {exc!r}")
                conn = None
                continue
            latencies.append(time.perf_counter() - t0)
            sizes.append(len(resp.body))
            if resp.status != req.expect:
                errors.append(f"{req.method} {req.path}: HTTP {resp.status}, expected {req.expect}")
        if conn is not None:
            conn.close()
        with lock:
            result.latencies += latencies
            result.bytes += sizes
            result.errors += errors

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result.seconds = time.perf_counter() - start
    result.requests = len(result.latencies)
    return result


# --- sessions and forms ----------------------------------------------------------------------


class _Form:
    def __init__(self) -> None:
        self.inputs: list[dict[str, str]] = []
        self.selects: dict[str, list[str]] = {}


class FormParser(HTMLParser):
    """The fields of each <form method=post> of a page: inputs, and selects with their options."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[_Form] = []
        self._form: _Form | None = None
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        form = self._form
        if tag == "form" and a.get("method", "").lower() == "post":
            self._form = _Form()
            self.forms.append(self._form)
        elif form is None:
            return
        elif tag == "input" and a.get("name"):
            form.inputs.append(a)
        elif tag == "select" and a.get("name"):
            self._select = a["name"]
            form.selects[self._select] = []
        elif tag == "option" and self._select is not None:
            form.selects[self._select].append(a.get("value", ""))

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "form":
            self._form = None


def parse_form(html: bytes) -> _Form:
    """The page's largest POST form (the attempt form, not the sign-out button's)."""
    parser = FormParser()
    parser.feed(html.decode("utf-8"))
    if not parser.forms:
        raise ValueError("the page has no POST form")
    return max(parser.forms, key=lambda f: len(f.inputs) + len(f.selects))


def csrf_token(html: bytes) -> str:
    for field_ in parse_form(html).inputs:
        if field_["name"] == "csrf_token":
            return field_["value"]
    raise ValueError("no csrf_token in the page's form")


def answer_form(html: bytes, rng: random.Random) -> bytes:
    """A full answer to an attempt page, from its own field names and token values, with
    finish=1: one choice per radio group, one or more boxes per checkbox group, an option
    for every matching select and distinct positions for each ordering group."""
    form = parse_form(html)
    fields: list[tuple[str, str]] = []
    radios: dict[str, list[str]] = {}
    boxes: dict[str, list[str]] = {}
    for f in form.inputs:
        kind = f.get("type", "text")
        if kind == "hidden":
            fields.append((f["name"], f["value"]))
        elif kind == "radio":
            radios.setdefault(f["name"], []).append(f["value"])
        elif kind == "checkbox":
            boxes.setdefault(f["name"], []).append(f["value"])
    for name, values in radios.items():
        fields.append((name, rng.choice(values)))
    for name, values in boxes.items():
        fields += [(name, v) for v in rng.sample(values, rng.randint(1, len(values)))]
    groups: dict[str, list[str]] = {}
    for name in form.selects:
        groups.setdefault(name.rsplit("_", 1)[0], []).append(name)
    for names in groups.values():
        options = [v for v in form.selects[names[0]] if v]
        if options == [str(i) for i in range(1, len(names) + 1)]:  # ordering: positions
            positions = options[:]
            rng.shuffle(positions)
            fields += list(zip(names, positions, strict=True))
        else:  # matching: any option for each item
            fields += [(n, rng.choice([v for v in form.selects[n] if v])) for n in names]
    if not (radios or boxes or groups):
        raise ValueError("the attempt page has no answer fields")
    fields.append(("finish", "1"))
    return urlencode(fields).encode()


class Session:
    """A cookie jar for one signed-in user (only name=value pairs matter here)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    @property
    def cookie(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def request(self, method: str, path: str, body: bytes | None = None) -> Response:
        resp, conn = fetch(self.port, Request(method, path, self.cookie, body))
        if conn is not None:
            conn.close()
        for header in resp.headers.get_all("Set-Cookie") or []:
            pair = header.split(";", 1)[0]
            name, _, value = pair.partition("=")
            if value and "Expires=Thu, 01 Jan 1970" not in header:
                self.cookies[name.strip()] = value.strip()
            else:
                self.cookies.pop(name.strip(), None)
        return resp

    def get(self, path: str, expect: int = 200) -> Response:
        resp = self.request("GET", path)
        if resp.status != expect:
            raise RuntimeError(f"GET {path}: HTTP {resp.status}, expected {expect}")
        return resp

    def login(self, email: str, password: str) -> None:
        """Sign in through the form, CSRF token and all, once."""
        page = self.get("/auth/login")
        body = urlencode({"csrf_token": csrf_token(page.body), "email": email,
                          "password": password}).encode()
        resp = self.request("POST", "/auth/login", body)
        if resp.status != 302:
            raise RuntimeError(f"Could not sign in as {email}: HTTP {resp.status}")
        # Signing in clears the session; the first form page stores a new CSRF secret in it.
        # Keep that cookie, as a browser would, so timed requests do not each set one.
        self.get("/sets")
