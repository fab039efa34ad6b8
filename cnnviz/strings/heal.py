"""A pool and a store that mend: restarting a cut-off run, a store that broke or is busy."""

STRINGS = {
    # --- restarting a run that a dead pool or worker cut off (Scheduler.restart) -----------------
    "sched.restart": ("Restart", "重新开始"),
    "sched.restart.help": (
        "Run it again with the same settings, for the same students: a new run (this one stays as it is)",
        "用相同的设置为同样的学生再运行一次：这是一个新的训练（当前这个保持不变）",
    ),
    "sched.restart.no": (
        "run {run_id} cannot be restarted: only a run cut off by a server restart or a worker that died can be; "
        "start a new one from the form",
        "训练 {run_id} 不能重新开始：只有因服务器重启或工作进程意外退出而中断的训练才可以；请在表单中开始一个新的训练",
    ),
    "sched.restarted": ("Restarted as a new run", "已作为新的训练重新开始"),
    "teacher.did.restart": ("Restarted: {run}", "已重新开始：{run}"),
    "teacher.restart.help": (
        "Run the picked run again (interrupted, or its worker died), for its owner and its other watchers; "
        "the owner's limit on live runs applies",
        "为所选训练的发起者和其他关注者再运行一次（已中断，或其工作进程意外退出）；发起者同时运行训练数量的上限仍然适用",
    ),
    # --- a store locked by another program past SQLite's wait (ui.sched.store_guard) ----------------
    "store.busy": (
        "the run store is busy: another program holds its lock ({error}); try again in a moment",
        "训练记录库正忙：另一个程序正占用它的锁（{error}）；请稍后再试",
    ),
}
