"""bertviz head view and model view, rendered with no network.

bertviz loads RequireJS, d3 and jQuery from a CDN. dnalens installs them from the npm registry
(``assets/js/package.json``, ``scripts/fetch_js.sh``; not committed) and inlines them in place of the CDN tag; the
modules are then defined before bertviz's ``require.config`` asks for them, so nothing is fetched.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import DnalensError
from ..paths import JS_ROOT

JS_FILES = {"d3": "d3/dist/d3.min.js", "jquery": "jquery/dist/jquery.min.js", "requirejs": "requirejs/require.js"}
CDN_TAG = '<script src="https://cdnjs.cloudflare.com/ajax/libs/require.js/2.3.6/require.min.js"></script>'
MAX_TOKENS = 128


class MissingJavaScript(DnalensError):
    pass


def offline_scripts(root: Path = JS_ROOT) -> str:
    """The inline <script> block that replaces bertviz's CDN tag."""
    missing = [rel for rel in JS_FILES.values() if not (root / rel).exists()]
    if missing:
        raise MissingJavaScript(
            "the bertviz view needs d3, jQuery and RequireJS from the npm registry, which are not "
            f"installed ({', '.join(missing)} missing under {root}); run `make js` "
            "(scripts/fetch_js.sh). The native head view works without them."
        )
    d3, jq, rq = ((root / JS_FILES[k]).read_text(encoding="utf-8") for k in ("d3", "jquery", "requirejs"))
    return (
        f"<script>{d3}</script><script>{jq}</script><script>{rq}</script>"
        "<script>define('d3',[],function(){return window.d3});"
        "define('jquery',[],function(){return window.jQuery});</script>"
    )


def frame_height(kind: str, n_tokens: int, n_layers: int, n_heads: int) -> int:
    """Pixels an iframe needs to show bertviz's ``head`` or ``model`` view of ``n_tokens`` tokens whole (the sizes
    are bertviz's own constants: 22.5 px per token row in the head view, 18 px per row in the model view's detail
    panel and 7 * 12 / n_heads px per row in its thumbnails), plus its controls and the page margins."""
    controls = 110
    if kind == "head":
        return int(np.ceil(n_tokens * 22.5 + 30 + controls))
    thumb = n_tokens * 7 * 12 / max(1, n_heads) + 10
    detail = n_tokens * 18 + 2 * 15 + 25
    return int(np.ceil(max(n_layers * thumb + 38, detail) + controls))


def bertviz_html(
    att: np.ndarray, tokens: list[str], kind: str = "head", layer: int | None = None, js_root: Path = JS_ROOT
) -> str:
    """Self-contained HTML of bertviz's head view (``kind='head'``) or model view for attention
    ``[n_layers, n_heads, T, T]`` (T <= 128: bertviz embeds every value in the page)."""
    import torch
    from bertviz import head_view, model_view

    if att.shape[-1] > MAX_TOKENS:
        raise DnalensError(f"{att.shape[-1]} tokens is too many for bertviz (at most {MAX_TOKENS}); choose a window")
    inline = offline_scripts(js_root)
    attention = [torch.tensor(np.round(att[l][None], 3), dtype=torch.float32) for l in range(att.shape[0])]
    if kind == "head":
        html = head_view(attention, tokens, layer=layer, html_action="return").data
    elif kind == "model":
        html = model_view(attention, tokens, display_mode="light", html_action="return").data
    else:
        raise ValueError("kind must be 'head' or 'model'")
    if CDN_TAG not in html:
        raise DnalensError("this bertviz version renders differently than expected; cannot make it offline")
    return html.replace(CDN_TAG, inline)


def standalone_html(fragment: str, title: str = "bertviz") -> str:
    """A bertviz fragment (scripts and a div) as a whole HTML document, for a download that opens by itself."""
    import html

    return (
        f'<!doctype html>\n<html>\n<head>\n<meta charset="utf-8">\n<title>{html.escape(title)}</title>\n</head>\n'
        f"<body>\n{fragment}\n</body>\n</html>\n"
    )
