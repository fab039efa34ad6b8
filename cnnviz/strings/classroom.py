"""Strings of the classroom launcher (``python -m classroom``): its event lines, its start-up
errors and its ``--help``. File paths, pids, signal names and commands are passed in, not translated;
the ready line keeps the word ``ready`` in both languages (scripts wait for it)."""

STRINGS = {
    # --- python -m classroom: arguments and errors ---------------------------------------------------
    "room.description": (
        "cnnviz for a class: K Streamlit replicas behind HAProxy on one port.",
        "面向课堂的 cnnviz：K 个 Streamlit 副本在 HAProxy 之后，共用一个端口。",
    ),
    "room.h.replicas": (
        "Streamlit processes behind the proxy (default: $REPLICAS, else the CPU count)",
        "代理之后的 Streamlit 进程数（默认：$REPLICAS，否则为 CPU 核数）",
    ),
    "room.h.port": (
        "the port students open (default: $PORT, else 8501)",
        "学生访问的端口（默认：$PORT，否则为 8501）",
    ),
    "room.h.host": (
        "address to listen on (default 0.0.0.0 = every interface; 127.0.0.1 = this machine only)",
        "监听地址（默认 0.0.0.0 = 所有网络接口；127.0.0.1 = 仅本机）",
    ),
    "room.h.run_dir": (
        "folder for haproxy.cfg and the logs (default: a new /tmp/cnnviz-classroom-*)",
        "存放 haproxy.cfg 和日志的文件夹（默认：新建一个 /tmp/cnnviz-classroom-*）",
    ),
    "room.h.pin_cpus": (
        "give each replica its own share of the CPU cores (training on one replica then "
        "cannot slow down the others' students)",
        "给每个副本分配各自的一份 CPU 核心（这样一个副本上的训练就不会拖慢其他副本上的学生）",
    ),
    "room.h.start_timeout": (
        "seconds a replica may take to answer its first health check (default {secs:.0f})",
        "副本应答第一次健康检查最多可用的秒数（默认 {secs:.0f}）",
    ),
    "room.h.lang": (
        "language of the messages: en or zh (default: $CNNVIZ_LANG if it is en or zh, else en)",
        "消息的语言：en 或 zh（默认：$CNNVIZ_LANG 为 en 或 zh 时用它，否则为 en）",
    ),
    "room.error": ("classroom: error: {err}", "classroom：错误：{err}"),
    "room.not_int": ("{name}={raw!r} is not a whole number", "{name}={raw!r} 不是整数"),
    "room.replicas_min": ("--replicas must be at least 1", "--replicas 至少为 1"),
    # --- start-up checks ---------------------------------------------------------------------------------
    "room.no_haproxy": (
        "haproxy is not installed: as root run `{hint}` (or `make classroom`)",
        "未安装 haproxy：请以 root 身份运行 `{hint}`（或 `make classroom`）",
    ),
    "room.no_app": ("{path} not found", "找不到 {path}"),
    "room.port_in_use": (
        "port {port} on {host} is in use (another classroom, or `make run`?): "
        "stop it or choose another with --port / PORT=",
        "{host} 上的端口 {port} 已被占用（另一个课堂，还是 `make run`？）："
        "请先停止它，或用 --port / PORT= 换一个端口",
    ),
    "room.port_root": (
        "port {port} on {host} needs root (ports below 1024): use --port 8501",
        "{host} 上的端口 {port} 需要 root 权限（1024 以下的端口）：请用 --port 8501",
    ),
    "room.port_cannot": ("cannot listen on {host}:{port}: {reason}", "无法在 {host}:{port} 上监听：{reason}"),
    "room.check_exit": ("haproxy -c exited with {code}", "haproxy -c 已退出，退出码 {code}"),
    "room.cfg_rejected": ("haproxy rejects {cfg}: {problem}", "haproxy 拒绝了 {cfg}：{problem}"),
    # --- how a process ended (inside the lines below) ----------------------------------------------------
    "room.killed_by": ("killed by {signal}", "被 {signal} 终止"),
    "room.killed_by_num": ("killed by signal {num}", "被信号 {num} 终止"),
    "room.exited": ("exited with code {code}", "已退出，退出码 {code}"),
    # --- start-up lines ----------------------------------------------------------------------------------
    "room.no_store": (
        "cannot name the run store (cnnviz.settings.db_path()): {err}; set CNNVIZ_DB to a file path",
        "无法确定运行记录库（cnnviz.settings.db_path()）：{err}；请把 CNNVIZ_DB 设为一个文件路径",
    ),
    "room.teacher_key": (
        "teacher key: {key} (type it on the Teacher page; set CNNVIZ_TEACHER_KEY to choose your own)",
        "教师密钥：{key}（在“教师”页面输入；设置 CNNVIZ_TEACHER_KEY 可自选密钥）",
    ),
    "room.teacher_key_env": (
        "teacher key: the one in $CNNVIZ_TEACHER_KEY (type it on the Teacher page)",
        "教师密钥：$CNNVIZ_TEACHER_KEY 中的那个（在“教师”页面输入）",
    ),
    "room.pool_starting": (
        "worker pool starting: pid {pid} for run store {store}, log {log}",
        "工作进程池正在启动：pid {pid}，运行记录库 {store}，日志 {log}",
    ),
    "room.calibrating": (
        "measuring this machine's speed for the estimates (once per machine and store, about a minute)…",
        "正在测量本机速度以给出估计（每台机器和存储仅一次，约一分钟）…",
    ),
    "room.calibrated": ("this machine measured in {secs} s", "本机测量完成，用时 {secs} 秒"),
    "room.calibration_slow": (
        "the machine's measurement took more than {secs} s: the class is served now, and the training forms "
        "say \"estimating…\" until it ends",
        "本机测量超过 {secs} 秒：现在开始服务课堂，训练表单将显示“估计中…”直到测量结束",
    ),
    "room.pool_ready": (
        "worker pool up: pid {pid}, {workers} worker(s) × {threads} torch thread(s) on {cores} core(s); "
        "every replica's training runs and lab jobs queue for it",
        "工作进程池已就绪：pid {pid}，{workers} 个工作进程 × 每个 {threads} 个 torch 线程，共 {cores} 个 CPU 核心；"
        "所有副本的训练和实验任务都在它这里排队",
    ),
    "room.pool_exited_early": (
        "the worker pool (pid {pid}) {how} before its first heartbeat; last lines of {log}:",
        "工作进程池（pid {pid}）在第一次心跳之前{how}；{log} 的最后几行：",
    ),
    "room.pool_other": (
        "another worker pool (pid {pid}) already serves the run store {store} (`make run`, or another "
        "classroom, on the same store?): stop it, or give this classroom its own store with CNNVIZ_DB=…",
        "另一个工作进程池（pid {pid}）已在为运行记录库 {store} 服务（同一个库上的 `make run` 或另一个课堂？）："
        "请先停止它，或用 CNNVIZ_DB=… 给这个课堂单独的库",
    ),
    "room.pool_timeout": (
        "the worker pool (pid {pid}) wrote no heartbeat within {secs:.0f} s; last lines of {log}:",
        "工作进程池（pid {pid}）在 {secs:.0f} 秒内没有写入心跳；{log} 的最后几行：",
    ),
    "room.run_dir": (
        "run dir {run_dir} (haproxy.cfg, haproxy.log, {logs}); run store {store}",
        "运行目录 {run_dir}（haproxy.cfg、haproxy.log、{logs}）；运行记录库 {store}",
    ),
    "room.replica_starting": (
        "replica {name} starting: pid {pid} on 127.0.0.1:{port}{cpus}, log {log}",
        "副本 {name} 正在启动：pid {pid}，地址 127.0.0.1:{port}{cpus}，日志 {log}",
    ),
    "room.cpus": (", cpus {cpus}", "，CPU 核心 {cpus}"),
    "room.exited_early": (
        "replica {name} (pid {pid}) {how} before answering {health}; last lines of {log}:",
        "副本 {name}（pid {pid}）在应答 {health} 之前{how}；{log} 的最后几行：",
    ),
    "room.start_timeout": (
        "replica {name} (pid {pid}) did not answer {health} within {secs:.0f} s; last lines of {log}:",
        "副本 {name}（pid {pid}）在 {secs:.0f} 秒内没有应答 {health}；{log} 的最后几行：",
    ),
    "room.all_healthy": ("{k} replica(s) healthy: {pids}", "{k} 个副本运行正常：{pids}"),
    "room.haproxy_starting": (
        "haproxy starting: pid {pid}, {cfg}, log {log}",
        "haproxy 正在启动：pid {pid}，{cfg}，日志 {log}",
    ),
    "room.haproxy_start_cause": ("haproxy {how} at start-up: {cause}", "haproxy 在启动时{how}：{cause}"),
    "room.haproxy_start_log": ("haproxy {how} at start-up; see {log}", "haproxy 在启动时{how}；见 {log}"),
    "room.stats_socket": ("stats socket: {err}", "统计套接字：{err}"),
    "room.server_state": ("{name} is {state} for haproxy", "在 haproxy 看来 {name} 的状态是 {state}"),
    "room.state_unknown": ("not known yet", "尚不知道"),
    "room.http_from": ("{name}: HTTP {status} from {replica}", "{name}：HTTP {status}，来自 {replica}"),
    "room.proxy_timeout": (
        "haproxy (pid {pid}) does not reach replica(s) {names} within {secs:.0f} s ({last}); see {log}",
        "haproxy（pid {pid}）在 {secs:.0f} 秒内连不上副本 {names}（{last}）；见 {log}",
    ),
    "room.ready_1": (
        "cnnviz classroom ready on {url} ({k} replica, pids {pids}, haproxy {haproxy})",
        "cnnviz 课堂已就绪（ready）：{url}（{k} 个副本，pid {pids}，haproxy {haproxy}）",
    ),
    "room.ready_n": (
        "cnnviz classroom ready on {url} ({k} replicas, pids {pids}, haproxy {haproxy})",
        "cnnviz 课堂已就绪（ready）：{url}（{k} 个副本，pid {pids}，haproxy {haproxy}）",
    ),
    "room.students": (
        "students: {url} (or this machine's address on the class network)",
        "学生访问：{url}（或本机在课堂网络中的地址）",
    ),
    # --- supervision -------------------------------------------------------------------------------------
    "room.restarting": ("{why}; restarting {name} in {delay} s", "{why}；{delay} 秒后重启 {name}"),
    "room.haproxy_died": ("haproxy (pid {pid}) {how}; see {log}", "haproxy（pid {pid}）{how}；见 {log}"),
    "room.haproxy_restarted": (
        "haproxy restarted: pid {pid} (was {old}, restart {n})",
        "haproxy 已重启：pid {pid}（原为 {old}，第 {n} 次重启）",
    ),
    "room.replica_restarted": (
        "replica {name} restarted: pid {pid} (was {old}) on 127.0.0.1:{port}, restart {n}",
        "副本 {name} 已重启：pid {pid}（原为 {old}），地址 127.0.0.1:{port}，第 {n} 次重启",
    ),
    "room.replica_died": ("replica {name} (pid {pid}) {how}", "副本 {name}（pid {pid}）{how}"),
    "room.last_line": (" (last log line: {line})", "（日志最后一行：{line}）"),
    "room.replica_healthy": (
        "replica {name} healthy: pid {pid} answers {health}",
        "副本 {name} 运行正常：pid {pid} 应答了 {health}",
    ),
    "room.replica_hung": (
        "replica {name} (pid {pid}) has not answered {health} for {secs:.0f} s: stopping it",
        "副本 {name}（pid {pid}）已有 {secs:.0f} 秒没有应答 {health}：正在停止它",
    ),
    "room.stopped_hung": ("replica {name} stopped (hung)", "副本 {name} 已停止（无响应）"),
    "room.replica_never": (
        "replica {name} (pid {pid}) did not answer {health} within {secs:.0f} s of its start: stopping it; see {log}",
        "副本 {name}（pid {pid}）启动后 {secs:.0f} 秒内没有应答 {health}：正在停止它；见 {log}",
    ),
    "room.pool_died": ("the worker pool (pid {pid}) {how}; see {log}", "工作进程池（pid {pid}）{how}；见 {log}"),
    "room.pool_restarted": (
        "worker pool restarted: pid {pid} (was {old}, restart {n}); any job the old one was running is marked interrupted",
        "工作进程池已重启：pid {pid}（原为 {old}，第 {n} 次重启）；旧进程池正在运行的任务都标记为“已中断”",
    ),
    "room.pool_hung": (
        "the worker pool (pid {pid}) has written no heartbeat for {secs:.0f} s: stopping it",
        "工作进程池（pid {pid}）已有 {secs:.0f} 秒没有写入心跳：正在停止它",
    ),
    "room.pool_stopped_hung": ("worker pool stopped (hung)", "工作进程池已停止（无响应）"),
    "room.pool_never": (
        "the worker pool (pid {pid}) wrote no heartbeat within {secs:.0f} s of its start: stopping it; see {log}",
        "工作进程池（pid {pid}）启动后 {secs:.0f} 秒内没有写入心跳：正在停止它；见 {log}",
    ),
    "room.pool_stopped_never": ("worker pool stopped (never beat)", "工作进程池已停止（从未有心跳）"),
    "room.stopped_never": ("replica {name} stopped (never healthy)", "副本 {name} 已停止（从未正常运行）"),
    # --- stopping ----------------------------------------------------------------------------------------
    "room.sigkill": (
        "{name} (pid {pid}) still running {secs:.0f} s after SIGTERM: SIGKILL",
        "{name}（pid {pid}）在 SIGTERM 之后 {secs:.0f} 秒仍在运行：发送 SIGKILL",
    ),
    "room.stopping": ("stopping {children}", "正在停止 {children}"),
    "room.stopped": ("stopped; logs kept in {run_dir}", "已停止；日志保留在 {run_dir}"),
    "room.interrupted": ("{signal} during start-up", "启动期间收到 {signal}"),
    "room.signal_stop": ("{signal}: stopping", "{signal}：正在停止"),
}
