"""A real Label Studio server for the slow tests: started on localhost with a throw-away
SQLite data folder, driven over its HTTP API with the standard library only, and always
stopped.  (Written from a probe of Label Studio 1.23: the legacy API token is enabled when
the first user is created; the export lists tasks with their annotations; the server
moves to the next port when one is taken, so the real port is read from its log.)

The ``label-studio`` executable comes from ``EXPEL_LABEL_STUDIO`` or the PATH (the
``annotate`` extra installs it: ``pip install -e ".[annotate]"``).
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

USER_EMAIL = "tests@example.com"            # Label Studio user names are e-mail addresses
USER_PASSWORD = "tests-pass-123456"
USER_TOKEN = "expel0tests0token0123456789abcdef"


def executable() -> str | None:
    """The ``label-studio`` command to run, or None when it is not installed."""
    return os.environ.get("EXPEL_LABEL_STUDIO") or shutil.which("label-studio")


# ----------------------------------------------------------------------------- HTTP
class Api:
    def __init__(self, base):
        self.base = base.rstrip("/")
        self.auth = None  # value for the Authorization header
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.csrf = None

    def call(self, method, path, body=None, *, form=None, raw=False, ok=(200, 201, 204),
             timeout=60, headers=None):
        url = self.base + path
        hdrs = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        elif form is not None:
            data = urllib.parse.urlencode(form).encode()
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
        if self.auth:
            hdrs["Authorization"] = self.auth
        if self.csrf and method != "GET":
            hdrs["X-CSRFToken"] = self.csrf
            hdrs["Referer"] = self.base + "/"
        hdrs.update(headers or {})
        req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
        try:
            with self.opener.open(req, timeout=timeout) as r:
                status, payload = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, payload = e.code, e.read()
        if status not in ok:
            raise RuntimeError(f"{method} {path} -> HTTP {status}: {payload[:800]!r}")
        if raw:
            return payload
        return json.loads(payload) if payload else None


def _default_sigint():
    # A child started from a non-interactive shell's `cmd &` inherits SIGINT=SIG_IGN, and
    # Python then never installs KeyboardInterrupt: runserver would ignore our SIGINT.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    # Linux: if the probe itself dies (even SIGKILL), the kernel SIGTERMs the server.
    if sys.platform.startswith("linux"):
        try:
            import ctypes
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG=1
        except Exception:
            pass


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ----------------------------------------------------------------------------- server
class Server:
    """``label-studio start`` on a free localhost port; :meth:`stop` ends it and its group."""

    def __init__(self, ls_bin, data_dir, legacy=True, log_level="WARNING"):
        self.ls_bin, self.data_dir, self.legacy, self.log_level = ls_bin, data_dir, legacy, log_level
        self.proc = None
        self.port = None
        self.log_path = os.path.join(data_dir, "server.log")

    def env(self):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("LABEL_STUDIO_", "HEARTEX_", "DJANGO_"))}
        # get_env(NAME) in LS also reads the *unprefixed* NAME: a stray USERNAME,
        # PASSWORD, HOST, PORT, DEBUG, DATABASE_NAME ... in the caller's env would leak in.
        for k in ("USERNAME", "PASSWORD", "USER_TOKEN", "HOST", "PORT", "DEBUG",
                  "DATABASE_NAME", "DJANGO_DB", "BASE_DATA_DIR", "LOG_LEVEL",
                  "SECRET_KEY", "SENTRY_DSN", "FRONTEND_SENTRY_DSN", "CI"):
            env.pop(k, None)
        env.update({
            "LABEL_STUDIO_BASE_DATA_DIR": self.data_dir,  # sqlite db, media, export, .env
            "DJANGO_DB": "sqlite",
            "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true" if self.legacy else "false",
            "SENTRY_DSN": "", "FRONTEND_SENTRY_DSN": "",  # default DSNs phone home
            "LATEST_VERSION_CHECK": "false",              # no PyPI lookup
            "COLLECT_ANALYTICS": "false",
            "PYTHONUNBUFFERED": "1",
        })
        return env

    def start(self, timeout=240):
        port = free_port()
        cmd = [self.ls_bin, "start", "--no-browser",
               "--internal-host", "127.0.0.1", "--port", str(port),
               "--data-dir", self.data_dir, "--log-level", self.log_level,
               "--username", USER_EMAIL, "--password", USER_PASSWORD]
        # the legacy token is always set on the user; whether it is *accepted* is the
        # organization's legacy_api_tokens_enabled flag (set when the org is created)
        cmd += ["--user-token", USER_TOKEN]
        if self.legacy:
            cmd += ["--enable-legacy-api-token"]
        self.log = open(self.log_path, "ab")
        t0 = time.monotonic()
        self.proc = subprocess.Popen(cmd, cwd=self.data_dir, env=self.env(), stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True,  # own process group -> killpg
                                     preexec_fn=_default_sigint)
        # LS silently moves to port+1 if the port is taken; read the real one from the log
        pat = re.compile(rb"Starting development server at http://[^:]+:(\d+)/")
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"label-studio exited with {self.proc.returncode}:\n{self.tail()}")
            if time.monotonic() - t0 > timeout:
                raise RuntimeError(f"label-studio not up after {timeout}s:\n{self.tail()}")
            if self.port is None:
                with open(self.log_path, "rb") as f:
                    m = pat.search(f.read())
                if m:
                    self.port = int(m.group(1))
            if self.port is not None:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=2) as r:
                        if r.status == 200:
                            return time.monotonic() - t0
                except (urllib.error.URLError, ConnectionError, socket.timeout):
                    pass
            time.sleep(0.25)

    def tail(self, n=3000):
        try:
            with open(self.log_path, "rb") as f:
                return f.read()[-n:].decode("utf-8", "replace")
        except OSError:
            return ""

    def stop(self):
        """SIGINT (runserver exits cleanly on Ctrl-C), then SIGTERM, then SIGKILL, to the group."""
        if self.proc is None:
            return None
        t0 = time.monotonic()
        pgid = self.proc.pid  # start_new_session=True: pgid == pid
        for sig, wait in ((signal.SIGINT, 15), (signal.SIGTERM, 10), (signal.SIGKILL, 10)):
            if self.proc.poll() is not None:
                break
            try:
                os.killpg(pgid, sig)
            except ProcessLookupError:
                break
            try:
                self.proc.wait(wait)
            except subprocess.TimeoutExpired:
                pass
        # reap any stragglers left in the group (there are none normally)
        try:
            os.killpg(pgid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.log.close()
        dt = time.monotonic() - t0
        rc = self.proc.returncode
        self.proc = None
        return dt, rc
