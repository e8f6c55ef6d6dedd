#!/usr/bin/env python3
"""webdriver.py — a tiny W3C WebDriver client over plain HTTP (urllib), for
driving headless Chromium through chromedriver from the bats tests
(tests/lib/browser.bash), without selenium.

    webdriver.py start                 new session; prints its id
    webdriver.py get URL               navigate
    webdriver.py js SCRIPT             run SCRIPT (a function body); prints its result as JSON
    webdriver.py wait SECS SCRIPT      run SCRIPT every 0.2 s until it returns something
                                       truthy (printed); exit 1 after SECS with the last value
    webdriver.py click CSS             click the element (a real pointer click)
    webdriver.py type CSS TEXT         click the element, then type TEXT (real key events)
    webdriver.py keys TEXT             type TEXT into the focused element; \\t is Tab, \\n Enter
    webdriver.py tab-to ID MAX         press Tab until the element with id ID has the focus;
                                       prints how many presses; exit 1 after MAX
    webdriver.py size W H              set the viewport's size
    webdriver.py shot FILE             a PNG screenshot of the viewport
    webdriver.py quit                  end the session

Environment: WD_URL (chromedriver, e.g. http://127.0.0.1:PORT), WD_SESSION
(after start), WD_PROFILE (a fresh directory for Chromium's profile).
Every request has a time-out; nothing here waits without bound.
"""
import base64
import json
import os
import sys
import time
import urllib.error
import urllib.request

ELEMENT = "element-6066-11e4-a52e-4f735466cecf"
KEYS = {"\t": "\ue004", "\n": "\ue007"}


def call(method, path, body=None, timeout=30):
    url = os.environ["WD_URL"] + path
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return json.loads(r.read() or b"{}").get("value")
    except urllib.error.HTTPError as e:
        msg = e.read().decode(errors="replace")
        sys.exit(f"webdriver: {method} {path}: HTTP {e.code}: {msg[:500]}")


def sess(path):
    return "/session/" + os.environ["WD_SESSION"] + path


def find(css):
    v = call("POST", sess("/element"), {"using": "css selector", "value": css})
    return v[ELEMENT]


def js(script):
    return call("POST", sess("/execute/sync"), {"script": script, "args": []})


def press(text):
    """Real key events, one down and up a character."""
    seq = []
    for c in text:
        seq += [{"type": "keyDown", "value": c}, {"type": "keyUp", "value": c}]
    call("POST", sess("/actions"), {"actions": [{"type": "key", "id": "kb", "actions": seq}]})
    call("DELETE", sess("/actions"))


def main(argv):
    cmd, args = argv[1], argv[2:]
    if cmd == "start":
        caps = {"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": os.environ.get("CHROMIUM", "/usr/bin/chromium"),
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--no-first-run",
                         "--disable-extensions", "--disable-background-networking",
                         "--hide-scrollbars", "--force-device-scale-factor=1",
                         "--window-size=1280,800",
                         "--user-data-dir=" + os.environ["WD_PROFILE"]]}}}}
        v = call("POST", "/session", caps, timeout=60)
        print(v["sessionId"])
    elif cmd == "get":
        call("POST", sess("/url"), {"url": args[0]}, timeout=60)
    elif cmd == "js":
        print(json.dumps(js(args[0])))
    elif cmd == "wait":
        end = time.monotonic() + float(args[0])
        while True:
            v = js(args[1])
            if v:
                print(json.dumps(v))
                return 0
            if time.monotonic() > end:
                print(json.dumps(v))
                print(f"webdriver: wait: not true after {args[0]} s: {args[1]}", file=sys.stderr)
                return 1
            time.sleep(0.2)
    elif cmd == "click":
        call("POST", sess(f"/element/{find(args[0])}/click"), {})
    elif cmd == "type":
        e = find(args[0])
        call("POST", sess(f"/element/{e}/click"), {})
        call("POST", sess(f"/element/{e}/value"), {"text": args[1]})
    elif cmd == "keys":
        press("".join(KEYS.get(c, c) for c in args[0].encode().decode("unicode_escape")))
    elif cmd == "tab-to":
        for n in range(1, int(args[1]) + 1):
            press("\ue004")
            if js("return document.activeElement.id") == args[0]:
                print(n)
                return 0
        print(f"webdriver: tab-to: {args[0]} not reached in {args[1]} presses", file=sys.stderr)
        return 1
    elif cmd == "size":   # the viewport's size: the window's, less its frame
        w, h = int(args[0]), int(args[1])
        call("POST", sess("/window/rect"), {"width": w, "height": h})
        iw, ih = js("return [window.innerWidth, window.innerHeight]")
        if (iw, ih) != (w, h):
            call("POST", sess("/window/rect"), {"width": 2 * w - iw, "height": 2 * h - ih})
    elif cmd == "shot":
        png = base64.b64decode(call("GET", sess("/screenshot"), timeout=60))
        with open(args[0], "wb") as f:
            f.write(png)
    elif cmd == "quit":
        call("DELETE", sess(""))
    else:
        sys.exit(f"webdriver: unknown command {cmd}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
