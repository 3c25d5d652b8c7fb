"""A headless Chromium driven over the DevTools protocol (a websocket), for the page tests
that need layout: where an element is on a phone's screen, and full-page screenshots.

The browser picks its own debugging port (``--remote-debugging-port=0``, written to
``DevToolsActivePort`` in its profile), resolves no host name but the loopback address, and
runs no script of the page: boxes come from ``DOM.getBoxModel``.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
from websockets.sync.client import ClientConnection, connect

CHROMIUM = "/usr/bin/chromium"


class Browser:
    def __init__(self, profile: Path) -> None:
        self.profile = profile
        self.process = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--disable-default-apps", "--hide-scrollbars",
             f"--user-data-dir={profile}", "--remote-debugging-port=0",
             "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.ids = itertools.count(1)
        self.events: list[str] = []  # the names of events received, since the last page opened
        self.stack = contextlib.ExitStack()
        self.stack.callback(self._stop)
        try:
            self.socket = self.stack.enter_context(self._connect())
        except BaseException:
            self.stack.close()
            raise

    def _connect(self, timeout: float = 60.0) -> ClientConnection:
        active = self.profile / "DevToolsActivePort"
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.process.poll() is not None:
                raise RuntimeError(f"chromium exited with {self.process.returncode}")
            lines = active.read_text().split() if active.exists() else []
            if len(lines) >= 2:
                targets = httpx.get(f"http://127.0.0.1:{lines[0]}/json/list", timeout=10).json()
                page = next(t for t in targets if t["type"] == "page")
                return connect(page["webSocketDebuggerUrl"], max_size=256 * 1024 * 1024,
                               open_timeout=30)
            time.sleep(0.1)
        raise RuntimeError("chromium did not open its debugging port")

    def call(self, method: str, timeout: float = 60.0, **params: Any) -> dict[str, Any]:
        """Send one command and wait for its answer; events on the way are kept in
        ``events``."""
        number = next(self.ids)
        self.socket.send(json.dumps({"id": number, "method": method, "params": params}))
        end = time.monotonic() + timeout
        while True:
            message = json.loads(self.socket.recv(timeout=max(end - time.monotonic(), 0.1)))
            if message.get("id") == number:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                result: dict[str, Any] = message["result"]
                return result
            if "method" in message:
                self.events.append(message["method"])

    def open(self, url: str, width: int, height: int) -> None:
        """Load ``url`` in a window of ``width`` by ``height`` CSS pixels (a phone's when
        narrow) and wait until it has loaded."""
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height,
                  deviceScaleFactor=1, mobile=width < 600)
        self.call("Page.enable")
        self.events.clear()
        self.call("Page.navigate", url=url)
        end = time.monotonic() + 60
        while "Page.loadEventFired" not in self.events:
            if time.monotonic() > end:
                raise RuntimeError(f"{url} did not load")
            message = json.loads(self.socket.recv(timeout=max(end - time.monotonic(), 0.1)))
            if "method" in message:
                self.events.append(message["method"])

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page."""
        return self.call("Runtime.evaluate", expression=expression,
                         returnByValue=True)["result"].get("value")

    def wait_for(self, path: str, timeout: float = 60.0) -> None:
        """Until the page at ``path`` (after a form's post or a redirect) has loaded."""
        end = time.monotonic() + timeout
        while self.evaluate("location.pathname + ' ' + document.readyState") != \
                f"{path} complete":
            if time.monotonic() > end:
                raise RuntimeError(f"{path} did not load: at {self.evaluate('location.href')}")
            time.sleep(0.1)

    def top(self, selector: str) -> float | None:
        """The top of the first element matching ``selector``, in CSS pixels from the top of
        the page; None when there is none."""
        root = self.call("DOM.getDocument")["root"]["nodeId"]
        node = self.call("DOM.querySelector", nodeId=root, selector=selector)["nodeId"]
        if not node:
            return None
        quad = self.call("DOM.getBoxModel", nodeId=node)["model"]["border"]
        return float(min(quad[1::2]))

    def height(self) -> float:
        return float(self.call("Page.getLayoutMetrics")["cssContentSize"]["height"])

    def screenshot(self, path: Path, width: int) -> None:
        """The whole page, not only the window, as a PNG."""
        shot = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True,
                         clip={"x": 0, "y": 0, "width": width, "height": self.height(),
                               "scale": 1})
        path.write_bytes(base64.b64decode(shot["data"]))

    def _stop(self) -> None:
        self.process.kill()
        self.process.wait(timeout=30)

    def close(self) -> None:
        """Close the connection, then end the browser (whatever the closing raised)."""
        self.stack.close()
