"""Admission and the machine's calibration: what a run may cost, and where its estimate comes from."""

STRINGS = {
    "adm.too_long": (
        "This run is estimated to take {est}, longer than the {limit} a run may take in this class: "
        "use fewer epochs, a smaller subset or input side, a larger width divisor, or the class-period recipe",
        "此训练预计用时 {est}，超过本课堂每次训练允许的 {limit}：请减少轮数、使用更小的子集或输入尺寸、"
        "更大的宽度除数，或使用课堂用配方",
    ),
    "adm.too_big": (
        "This run needs about {need} of memory, more than the {have} this server gives its jobs: "
        "use a smaller batch, input side or network",
        "此训练约需 {need} 内存，超过本服务器分给训练任务的 {have}：请使用更小的批量、输入尺寸或网络",
    ),
    "adm.overran": (
        "Stopped: it ran past {limit}, the longest a run of this class may take once started",
        "已停止：运行超过 {limit}，即本课堂每次训练开始后允许的最长时间",
    ),
    "adm.limits": (
        "A run here may take up to {limit}; the jobs of this server share {memory} of memory",
        "此处每次训练最多 {limit}；本服务器的任务共用 {memory} 内存",
    ),
    "adm.wait_memory": (
        "Waiting for memory: it needs {need}, and the running jobs hold {held} of the {cap} this server gives them",
        "等待内存：它需要 {need}，而正在运行的任务已占用本服务器分给任务的 {cap} 中的 {held}",
    ),
    "adm.start_waits": (
        "Start is available once the time is estimated",
        "估计出用时后即可开始",
    ),
    "cal.job.title": ("Measuring this server's speed ({threads} thread(s) per worker)",
                      "测量本服务器的速度（每个工作进程 {threads} 个线程）"),
    "cal.estimating": ("estimating…", "估计中…"),
    "cal.estimating.help": (
        "The server is measuring its own speed (about a minute, once); the estimate follows",
        "服务器正在测量自身速度（约一分钟，仅一次）；随后给出估计",
    ),
    "cal.no_pool": (
        "No worker pool has measured this server's speed yet: the time is not known",
        "尚无工作进程池测量过本服务器的速度：用时未知",
    ),
    "cal.from": (
        "From this server's own measurement of {arch} ({rate} training images/s at this size), made by its workers",
        "来自本服务器工作进程对 {arch} 的实测（此规模下每秒 {rate} 张训练图像）",
    ),
    "train.hist.est": ("Estimated", "预计"),
    "train.hist.took": ("Took", "实际"),
    "teacher.limit": ("Longest run a student may start (seconds)", "学生可开始的最长训练（秒）"),
    "teacher.limit.help": (
        "A student's Start is refused when the run's estimate is longer; a run that overruns is stopped at 1.5 times it. "
        "Your own runs and the pre-warm may take up to {teacher}",
        "训练的估计用时超过此值时，学生的开始请求会被拒绝；超时运行的训练在达到其 1.5 倍时停止。"
        "你自己的训练和预热最多可用 {teacher}",
    ),
    "teacher.limit.saved": ("A student's run may now take up to {limit}", "学生的训练现在最多可用 {limit}"),
}
