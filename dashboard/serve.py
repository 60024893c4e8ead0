"""The dashboard's server: ``python dashboard/serve.py [streamlit options]`` (what ``dnalens app`` and ``make app``
run). Streamlit runs in this process; meanwhile a thread fills the caches the first page asks for (the demo model,
the sample sequences' attention tracks, predictions and [CLS] rows, the first sequence's token matrices), so the
first landscape a browser asks for is drawn from the cache instead of waiting for the model."""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

APP = Path(__file__).resolve().parent / "app.py"
ROOT = APP.parent.parent


def warm() -> None:
    """Compute, through the dashboard's own cached calls, what a new session's Attention page needs first."""
    from core.io.sequences import read_fasta
    from core.lenses import make_lens
    from core.paths import SAMPLE_DATA
    from dashboard import state

    mkey = ("demo", "auto", "float32", False)  # state.init()'s defaults
    items = read_fasta(SAMPLE_DATA / "demo.fa")
    key = state.seq_key(items)
    lm = state.load_model_cached(*mkey)
    lens = make_lens("attention", orientation="forward", recipe="dnabert-viz")  # the sidebar's default lens
    quiet = lambda n: None  # no progress bar: no page to draw it on
    state.lens_tracks(mkey, key, lens, quiet)
    state._predictions(mkey, key)
    state.run_model(mkey, key, quiet)
    first = items[0].seq
    state.token_attention(mkey, first, 0, min(len(first), lm.tokenizer.window_nt()))


def _warm_when_serving() -> None:
    from streamlit.runtime import Runtime

    t0 = time.perf_counter()
    while not Runtime.exists() and time.perf_counter() - t0 < 60:
        time.sleep(0.1)  # the caches belong to the runtime: start once it exists
    try:
        warm()
    except Exception as exc:  # a page computes it then, and says what is wrong
        print(f"dnalens: warming the dashboard's caches failed ({type(exc).__name__}: {exc})", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.chdir(APP.parent)  # dashboard/.streamlit/config.toml applies
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    threading.Thread(target=_warm_when_serving, name="dnalens-warm", daemon=True).start()
    from streamlit.web import cli

    return cli.main(["run", str(APP), *argv], prog_name="streamlit")


if __name__ == "__main__":
    sys.exit(main())
