"""Strings of the warm-up (``python -m classroom.warm``, and the classroom launcher's lines about
it). URLs, pids, page names and logs are passed in, not translated; the ready line of
``make run`` keeps the word ``ready`` in both languages (scripts wait for it)."""

STRINGS = {
    # --- python -m classroom.warm ----------------------------------------------------------------------
    "warm.description": (
        "Warm a freshly started cnnviz server before its class arrives: one session per page loads "
        "home, explorer, training and board (English, then Chinese), so the students' first pages do not "
        "wait for the imports and the shared figures.",
        "在学生到来之前预热刚启动的 cnnviz 服务器：每个页面开一个会话，依次加载首页、架构浏览器、训练和看板"
        "（先英文后中文），这样学生打开的第一个页面就不必等待导入和共享图表的构建。",
    ),
    "warm.h.urls": (
        "the server(s) to warm, e.g. http://127.0.0.1:8501 (straight to each server, not through a proxy)",
        "要预热的服务器，例如 http://127.0.0.1:8501（直接连到每个服务器，不经过代理）",
    ),
    "warm.h.timeout": (
        "seconds the whole warm-up may take (default {secs:.0f})",
        "整个预热最多可用的秒数（默认 {secs:.0f}）",
    ),
    "warm.h.wait": (
        "first wait up to S seconds for each server to answer its health check (make run starts it beside the server)",
        "先最多等待 S 秒，直到每个服务器应答健康检查（make run 会在启动服务器的同时启动它）",
    ),
    "warm.h.json": (
        "one JSON object per server instead of a sentence (what the classroom launcher reads)",
        "每个服务器输出一个 JSON 对象而不是一句话（供课堂启动器读取）",
    ),
    "warm.error": ("warm-up: error: {err}", "预热：错误：{err}"),
    "warm.off": (
        "warm-up off (CNNVIZ_WARM=off): the first students wait for the server's imports and figures",
        "预热已关闭（CNNVIZ_WARM=off）：最先到来的学生要等待服务器的导入和图表构建",
    ),
    "warm.no_server": (
        "warm-up: {url} did not answer its health check within {secs:.0f} s; nothing was warmed",
        "预热：{url} 在 {secs:.0f} 秒内没有应答健康检查；没有进行预热",
    ),
    "warm.done": ("warmed in {secs:.1f} s ({pages})", "已预热，用时 {secs:.1f} 秒（{pages}）"),
    "warm.failed": (
        "not fully warmed: {error} (loaded: {pages})",
        "未完全预热：{error}（已加载：{pages}）",
    ),
    "warm.ready": ("cnnviz ready on {url}: {summary}", "cnnviz 已就绪（ready）：{url}：{summary}"),
    "warm.not_ready": (
        "cnnviz serves {url}, {summary}; its first students wait for the rest",
        "cnnviz 正在 {url} 提供服务，{summary}；最先到来的学生要等待其余部分",
    ),
    # --- the classroom launcher's lines about it ------------------------------------------------------
    "warm.room.h.timeout": (
        "seconds the replicas' warm-up may take before ready is said anyway (default {secs:.0f})",
        "副本预热最多可用的秒数，超过后照样宣布就绪（默认 {secs:.0f}）",
    ),
    "warm.room.starting": (
        "warming the replicas: one session each loads home, explorer, training and board, in English and "
        "Chinese (pid {pid}, log {log})",
        "正在预热副本：每个副本各用一个会话加载首页、架构浏览器、训练和看板，中英文各一次（pid {pid}，日志 {log}）",
    ),
    "warm.room.replica": ("replica {name} {summary}", "副本 {name} {summary}"),
    "warm.room.not_warmed": (
        "replica {name} {summary}; the class is served anyway, and its first students on {name} wait for the rest",
        "副本 {name} {summary}；课堂照常提供服务，{name} 上最先到来的学生要等待其余部分",
    ),
    "warm.room.timeout": (
        "the warm-up did not finish within {secs:.0f} s (log {log}): stopped; the class is served anyway, "
        "and its first students wait for what was not warmed",
        "预热在 {secs:.0f} 秒内没有完成（日志 {log}）：已停止；课堂照常提供服务，最先到来的学生要等待未预热的部分",
    ),
    "warm.room.no_report": (
        "the warm-up {how} without a report for {name} (log {log}); the class is served anyway",
        "预热{how}，没有关于 {name} 的报告（日志 {log}）；课堂照常提供服务",
    ),
    "warm.room.off": (
        "no warm-up (CNNVIZ_WARM=off): the first students wait for each replica's imports and figures",
        "不预热（CNNVIZ_WARM=off）：最先到来的学生要等待每个副本的导入和图表构建",
    ),
    "warm.room.again": (
        "warming replica {name} again after its restart (pid {pid}, log {log})",
        "副本 {name} 重启后再次预热（pid {pid}，日志 {log}）",
    ),
}
