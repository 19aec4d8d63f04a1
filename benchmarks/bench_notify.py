"""`modelreg notify` on a registry of many events, against an HTTP server on 127.0.0.1 in this process.

Four numbers, each set against a floor measured in the same run:
- a run with nothing new (the CI job on every tag, after the first) vs `modelreg list` (the same policy-checked
  read of every model, and nothing else); `list` takes the lean path and `notify` Typer's, so the same pair is
  also timed in process: `reg.notify(…)` vs `reg.models()`;
- the first run, which posts every event, per event, vs one `urllib.request` POST of the same body size from this
  process (the wire and the server's own cost);
- the first run's whole time vs the no-news run plus the POST floor times the event count.

    .venv/bin/python benchmarks/bench_notify.py [--events 2000] [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchenv import MODELREG, compile_package, installed_env, median_time, progress, run_checked
from make_registry import build

from modelreg.api import Registry


class Sink(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def post_floor(url: str, count: int) -> float:
    body = b"x" * 600  # about one notice's JSON
    start = time.perf_counter()
    for _ in range(count):
        request = urllib.request.Request(url, data=body, method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()
    return (time.perf_counter() - start) / count


def in_process_pair(repo: Path, url: str, state: Path) -> tuple[float, float]:
    """(reg.models(), notify with nothing new) in this process, each on a freshly opened registry."""
    start = time.perf_counter()
    Registry.open(repo).models()
    views = time.perf_counter() - start
    start = time.perf_counter()
    result = Registry.open(repo).notify(url=url, state=state)
    assert not result.sent
    return views, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000, help="tags in all (versions and events, half each)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    compile_package()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Sink)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    env = installed_env()
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "registry"
        build(repo, args.events, "modelreg", 0, False, progress)
        events = args.events // 2
        state = Path(tmp) / "state.json"
        notify = [MODELREG, "notify", "--state", str(state), "--url", url]
        first = median_time(notify, repo, args.runs, env, before=lambda _: state.unlink(missing_ok=True))
        run_checked(notify, repo, env)  # the state now holds every event
        again = median_time(notify, repo, args.runs, env)
        listing = median_time([MODELREG, "list", "--json"], repo, args.runs, env)
        floor = post_floor(url, min(events, 500))
        in_process = [in_process_pair(repo, url, state) for _ in range(args.runs)]
    server.shutdown()
    print(f"registry: {args.events} tags, about {events} events announced; median of {args.runs} runs")
    print(
        f"nothing new:  {again * 1000:7.1f} ms   `list --json` {listing * 1000:7.1f} ms   ratio {again / listing:.2f}"
    )
    views_s, notify_s = (statistics.median(pair[i] for pair in in_process) for i in (0, 1))
    print(
        f"in process:   notify {notify_s * 1000:7.1f} ms   reg.models() {views_s * 1000:7.1f} ms   "
        f"ratio {notify_s / views_s:.2f}"
    )
    per_event = (first - again) / events
    print(
        f"first run:    {first:7.2f} s    {per_event * 1000:.2f} ms per event   "
        f"POST floor {floor * 1000:.2f} ms   ratio {per_event / floor:.2f}"
    )
    print(f"first run vs no-news run + {events} floor POSTs: ratio {first / (again + events * floor):.2f}")


if __name__ == "__main__":
    main()
