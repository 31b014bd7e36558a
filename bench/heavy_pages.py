"""Heavy replica pages for the audit benchmark: a few MB of JavaScript and a large DOM.

The light benchmark pages are a form and a `fetch`: a real platform's sign-in or recovery page
is a single-page application that downloads two or three MB of script, runs a good part of it at
start (module factories, a framework, feature flags), builds a page of some ten thousand elements
(navigation, footers, hidden menus and dialogs) and renders the form from script; after the
answer it renders a result view. This module writes such a page, deterministic for a seed:

- `vendor.js` (about 2 MB) and `app.js` (about 1 MB): module factories with their own functions,
  classes, string tables and loops (distinct code, so each is parsed and compiled, not one big
  literal); at start, `app.js` runs about two in five of them;
- a style sheet of about 1500 rules and about 11,000 elements built by the script, with the
  layout forced, before the form appears (a parser-blocking script, so `goto` waits for it, as
  it waits for a real bundle);
- on "下一步": the API call, then a result view of about 2000 more elements and another round of
  module work before the answer text.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

VENDOR_MODULES = 2600
APP_MODULES = 1300
START_SHARE = 0.4  # the share of modules run at start
CARDS = 1200  # about 9 elements each
NAV_LINKS = 240
CSS_RULES = 1500
RESULT_ROWS = 400  # 5 cells each

WORDS = (  # noqa: SIM905 - one string reads better than 36 items
    "账号 安全 手机 验证 登录 注册 找回 密码 服务 帮助 设置 隐私 消息 订单 会员 客服 "
    "account security verify login sign-in recover password service help settings privacy "
    "messages orders member support region language download partner developer"
).split()

HTML = """\
<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>重型基准 {n}</title>
<link rel="preload" href="/static/vendor.js" as="script"></head>
<body><div id="root"><p class="boot">加载中…</p></div>
<script src="/static/vendor.js"></script>
<script src="/static/app.js"></script>
</body></html>
"""

APP_BOOT = """\
(function () {
  var M = window.__m, done = {};
  function req(id) {
    if (!done[id]) { var e = {}; M[id](e); done[id] = e; }
    return done[id];
  }
  var ids = Object.keys(M).map(Number);
  function work(share, n, salt) {
    var acc = 0;
    for (var i = 0; i < ids.length; i++) {
      if (((ids[i] * 2654435761 + salt) >>> 0) %% 1000 < share * 1000) acc ^= req(ids[i]).run(n);
    }
    return acc;
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text) e.textContent = text;
    return e;
  }
  var words = %(words)s;
  function phrase(i, k) {
    var s = [];
    for (var j = 0; j < k; j++) s.push(words[(i * 7 + j * 13) %% words.length]);
    return s.join(" ");
  }
  var css = [];
  for (var r = 0; r < %(css_rules)d; r++) {
    css.push(".c" + r + " .t" + (r %% 37) + ":not(.x" + (r %% 11) + ") > li:nth-child(" + (r %% 5 + 1) +
      "n) { margin: " + (r %% 7) + "px; color: #" + (100000 + r * 97 %% 899999) + "; }");
  }
  var style = el("style"); style.textContent = css.join("\\n"); document.head.appendChild(style);
  var state = work(%(start_share)s, 12, 1);
  var root = document.getElementById("root");
  root.textContent = "";
  var nav = el("nav", "top");
  for (var a = 0; a < %(nav_links)d; a++) {
    var link = el("a", "c" + (a %% 300), phrase(a, 2)); link.href = "#n" + a; nav.appendChild(link);
  }
  root.appendChild(nav);
  var main = el("main", "c1");
  var form = el("section", "form");
  form.innerHTML = '<h1>找回密码</h1><label for="m">手机号</label>' +
    '<input id="m" placeholder="请输入手机号" autocomplete="off">' +
    '<button type="button" id="go">下一步</button><p id="out" role="status"></p>';
  var feed = el("div", "feed c2");
  for (var c = 0; c < %(cards)d; c++) {
    var card = el("article", "c" + (c %% 300) + " t" + (c %% 37));
    card.appendChild(el("div", "thumb"));
    card.appendChild(el("h3", null, phrase(c, 3)));
    card.appendChild(el("p", null, phrase(c + 5, 12)));
    var ul = el("ul", "t" + (c %% 37));
    for (var l = 0; l < 3; l++) ul.appendChild(el("li", null, phrase(c + l, 2)));
    card.appendChild(ul);
    card.appendChild(el("button", "more", "更多"));
    feed.appendChild(card);
  }
  main.appendChild(feed);
  root.appendChild(main);
  void document.body.offsetHeight;  // the first layout of the whole page
  main.insertBefore(form, feed);
  void document.body.offsetHeight;
  document.getElementById("go").onclick = async function () {
    var r = await fetch("/api/check", {method: "POST", headers: {"content-type": "application/json"},
      body: JSON.stringify({mobile: document.getElementById("m").value})});
    var b = await r.json();
    var view = el("table", "result c3");
    for (var row = 0; row < %(result_rows)d; row++) {
      var tr = el("tr", "t" + (row %% 37));
      for (var cell = 0; cell < 5; cell++) tr.appendChild(el("td", null, phrase(row + cell, 2)));
      view.appendChild(tr);
    }
    state ^= work(%(start_share)s / 4, 12, 2);
    main.appendChild(view);
    void document.body.offsetHeight;
    setTimeout(function () {
      document.getElementById("out").textContent = b.exists ? "该手机号已注册" : "该手机号未注册";
    }, %(delay)d);
  };
  window.__state = state;
})();
"""


def module(rng: random.Random, mid: int) -> str:
    """One module factory: a string table, two helpers, a class and an entry point."""
    strings = [
        " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 14)))
        for _ in range(rng.randint(3, 6))
    ]
    table = ", ".join(f'"{s}"' for s in strings)
    a, b, c = rng.randint(3, 97), rng.randint(101, 9973), rng.randint(2, 9)
    return (
        f"__m[{mid}] = function (exports) {{\n"
        f"  var S{mid} = [{table}];\n"
        f"  function h{mid}(s, k) {{ var x = {b}; for (var i = 0; i < s.length; i++) "
        f"{{ x = (x * {a} + s.charCodeAt(i) + k) | 0; }} return x; }}\n"
        f"  function f{mid}(n) {{ return {{ id: n, label: S{mid}[n % S{mid}.length].slice(n % {c}), "
        f"tags: S{mid}.map(function (t) {{ return t.length + n; }}) }}; }}\n"
        f"  class K{mid} {{\n"
        f"    constructor(n) {{ this.n = n; this.cache = new Map(); }}\n"
        f"    get(k) {{ if (!this.cache.has(k)) this.cache.set(k, h{mid}(f{mid}(k).label, k)); "
        f"return this.cache.get(k); }}\n"
        f"    sum() {{ var t = 0; for (var j = 0; j < this.n; j++) t ^= this.get(j % {c + 3}); "
        f"return t; }}\n"
        f"  }}\n"
        f"  exports.run = function (n) {{ return new K{mid}(n).sum() + f{mid}(n).tags.length; }};\n"
        f"}};\n"
    )


def write(folder: Path, n: int, *, render_delay_ms: int) -> int:
    """Write index.html, static/vendor.js and static/app.js for platform `n`; their bytes."""
    rng = random.Random(f"heavy-{n}")
    static = folder / "static"
    static.mkdir(parents=True, exist_ok=True)
    vendor = "var __m = window.__m = {};\n" + "".join(
        module(rng, mid) for mid in range(VENDOR_MODULES)
    )
    app = "".join(
        module(rng, mid) for mid in range(VENDOR_MODULES, VENDOR_MODULES + APP_MODULES)
    ) + APP_BOOT % {
        "words": json.dumps(list(WORDS), ensure_ascii=False),
        "css_rules": CSS_RULES,
        "start_share": START_SHARE,
        "nav_links": NAV_LINKS,
        "cards": CARDS,
        "result_rows": RESULT_ROWS,
        "delay": render_delay_ms,
    }
    (folder / "index.html").write_text(HTML.format(n=n), "utf-8")
    (static / "vendor.js").write_text(vendor, "utf-8")
    (static / "app.js").write_text(app, "utf-8")
    return sum(len(s.encode()) for s in (vendor, app))
