"""The scheduler's words: jobs, the queue, ownership, the pool, the class board, the teacher."""

STRINGS = {
    # --- jobs and ownership -----------------------------------------------------------------
    "train.runs.worker_died": (
        "failed: the worker process running it died ({how}); the other jobs carry on",
        "失败：运行它的工作进程意外退出（{how}）；其他任务继续运行",
    ),
    "train.runs.process_gone": (
        "failed: the process that ran it ({worker}) is gone (killed, or its machine restarted)",
        "失败：运行它的进程（{worker}）已不存在（被终止，或机器重启）",
    ),
    "train.runs.ray_died": (
        "failed: its Ray task, worker or node died ({error}: {detail}); the server carries on",
        "失败：它的 Ray 任务、工作进程或节点意外退出（{error}：{detail}）；服务器继续运行",
    ),
    "train.err.ray": ("cannot train on Ray: {error}", "无法在 Ray 上训练：{error}"),
    "train.runs.limit": (
        "you already have {n} run(s) queued or running ({run_id}); stop it or wait for it to finish first",
        "你已有 {n} 个训练在排队或运行（{run_id}）；请先停止它或等它结束",
    ),
    "train.runs.store_newer": ("the run store {path} was written by a newer cnnviz (schema {version}; this one knows {ours}): update cnnviz, or give it another store with CNNVIZ_DB", "运行记录库 {path} 由更新版本的 cnnviz 写入（结构版本 {version}；本版本支持 {ours}）：请更新 cnnviz，或用 CNNVIZ_DB 指定另一个记录库"),
    "err.job.kind": ("there is no job kind {kind!r} (known: {known}; the kinds are registered by importing cnnviz.jobs)", "没有名为 {kind!r} 的任务类型（已知：{known}；任务类型在导入 cnnviz.jobs 时注册）"),
    "err.job.no_student": ("this request has no student identity", "该请求没有学生身份"),
    "err.job.not_yours": (
        "run {run_id} belongs to another student: you can look at it, but only its owner or the teacher can "
        "stop or delete it",
        "训练 {run_id} 属于另一位学生：你可以查看，但只有它的发起者或老师才能停止或删除它",
    ),
    "lab.job.gradflow": ("Gradient flow · {net}{bn} · {steps} steps · {data}", "梯度流 · {net}{bn} · {steps} 步 · {data}"),
    "lab.job.gf_resnet": ("ResNet-18 stages", "ResNet-18 各阶段"),
    "lab.job.gf_convs": ("{n} convs", "{n} 个卷积层"),
    "lab.job.bn": (" · BatchNorm", " · 批量规范化"),
    "lab.job.bnpair": ("BatchNorm pair · LeNet ± BN ({impl}) · lr={lr} · {steps} steps · {data}",
                       "批量规范化对照 · LeNet ± BN（{impl}）· lr={lr} · {steps} 步 · {data}"),
    "lab.job.featuremaps": ("Feature maps · {arch} · {steps} steps · {data}", "特征图 · {arch} · {steps} 步 · {data}"),
    "lab.job.completed": ("completed", "已完成"),
    "lab.job.stopped": ("stopped", "已停止"),
    # --- the queue on the training page -------------------------------------------------------
    "sched.attached": (
        "An identical run already exists: you are watching it (computed once for everyone who asked)",
        "已有完全相同的训练：你正在查看它（所有提出相同请求的人共享一次计算）",
    ),
    "sched.place": (
        "Queued: place {place} of {total}; starts in about {start}, done in about {end}",
        "排队中：第 {place} / {total} 位；约 {start} 后开始，约 {end} 后完成",
    ),
    "train.est.learned": (
        "From this server's finished runs of the same network (measured, not guessed)",
        "来自本服务器上同一网络已完成的训练（实测，而非猜测）",
    ),
    "sched.shared": ("watched by {n} students", "{n} 位学生在看"),
    "sched.cancel": ("Cancel", "取消"),
    "sched.left": (
        "You left this run; it goes on for the {n} other student(s) watching it",
        "你已离开此训练；它会为其他 {n} 位观看的学生继续运行",
    ),
    "sched.not_yours": (
        "This run belongs to another student: read-only",
        "此训练属于另一位学生：只读",
    ),
    "sched.pool_down": (
        "No worker pool is serving this server's jobs right now; queued jobs start when it is back",
        "当前没有工作进程池在处理任务；排队的任务将在它恢复后开始",
    ),
    "sched.pool": (
        "{workers} worker process(es) × {threads} thread(s), since {since}",
        "{workers} 个工作进程 × {threads} 个线程，自 {since} 起",
    ),
    "sched.pool.ray": (
        "Jobs run on the Ray cluster at {address}: {nodes} node(s), free CPUs {cpus}, free GPUs {gpus}; "
        "{jobs} job(s) at once × {threads} thread(s), since {since}",
        "任务在 {address} 的 Ray 集群上运行：{nodes} 个节点，空闲 CPU {cpus}，空闲 GPU {gpus}；"
        "同时 {jobs} 个任务 × {threads} 个线程，自 {since} 起",
    ),
    "sched.pool.ray_off": (
        "Ray was asked for but is not in use, so jobs run on this server's workers: {error}",
        "已配置 Ray 但未使用，任务在本服务器的工作进程上运行：{error}",
    ),
    # --- the class board ------------------------------------------------------------------------
    "board.title": ("Class board", "班级看板"),
    "board.intro": (
        "Every run of the class, read-only: overlay any of them on your own",
        "全班的所有训练（只读）：可以把任何一个叠加到你自己的曲线上",
    ),
    "board.mine": ("My runs", "我的训练"),
    "board.student": ("student", "学生"),
    "board.you": ("you", "你"),
    "board.empty": ("No runs in the class yet", "班级里还没有训练"),
    "board.watchers": ("watching", "观看人数"),
    "student.name": ("Your name on the class board", "你在班级看板上的名字"),
    "student.name.help": (
        "Optional: how the teacher and the class board show you (otherwise a short code)",
        "可选：老师和班级看板如何显示你（否则显示一个短代码）",
    ),
    "student.anon": ("student {code}", "学生 {code}"),
    # --- the teacher's page ------------------------------------------------------------------------
    "teacher.title": ("Teacher", "教师"),
    "teacher.key": ("Teacher key", "教师密钥"),
    "teacher.key.help": (
        "From CNNVIZ_TEACHER_KEY, or printed in the server's console when it started",
        "来自 CNNVIZ_TEACHER_KEY，或在服务器启动时打印在控制台中",
    ),
    "teacher.unlock": ("Unlock", "解锁"),
    "teacher.locked": ("Enter the teacher key to see the class and act on its runs", "输入教师密钥以查看班级并管理训练"),
    "teacher.bad_key": ("That is not the teacher key", "教师密钥不正确"),
    "teacher.lock": ("Lock", "锁定"),
    "teacher.students": ("Connected students ({n})", "在线学生（{n}）"),
    "teacher.no_students": ("No student has opened the app in the last minute", "最近一分钟内没有学生打开应用"),
    "teacher.last_seen": ("last seen", "最近活动"),
    "teacher.queue": ("Queue ({n})", "队列（{n}）"),
    "teacher.queue_empty": ("Nothing is queued", "队列为空"),
    "teacher.leaderboard": ("Leaderboard by test accuracy", "测试准确率排行榜"),
    "teacher.runs": ("Every run", "所有训练"),
    "teacher.stop": ("Stop", "停止"),
    "teacher.delete": ("Delete", "删除"),
    "teacher.pick": ("Run", "训练"),
    "teacher.clear": ("Clear the class", "清空班级"),
    "teacher.clear.confirm": ("Yes, delete every run of the class", "确认删除全班的所有训练"),
    "teacher.cleared": ("Deleted {n} run(s)", "已删除 {n} 个训练"),
    "teacher.prewarm": ("Pre-warm the class-period runs", "预热课堂训练"),
    "teacher.prewarm.help": (
        "Queue every architecture's class-period recipe now, so that the students' first runs open finished",
        "现在为每个架构排队运行课堂训练方案，让学生第一次训练时直接看到完成的结果",
    ),
    "teacher.prewarmed": ("Pre-warm: {new} queued, {done} already there", "预热：新排队 {new} 个，已有 {done} 个"),
    "teacher.pool": ("Worker pool", "工作进程池"),
    "teacher.key_printed": (
        "cnnviz teacher key (open the Teacher page and enter it): {key}",
        "cnnviz 教师密钥（打开“教师”页面并输入）：{key}",
    ),
}
