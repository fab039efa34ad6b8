"""The class board's and the teacher page's words that ``strings/scheduler.py`` does not have:
navigation, table columns, the name box, what each teacher action did."""

STRINGS = {
    # --- navigation ------------------------------------------------------------------------------
    "nav.board": ("Class board", "班级看板"),
    "nav.teacher": ("Teacher", "教师"),
    "nav.section.teacher": ("For the teacher", "教师专用"),
    # --- the class board -------------------------------------------------------------------------
    "board.col.mine": ("mine", "我的"),
    "board.mine.help": ("Only the runs you started or are watching", "只显示你发起或正在观看的训练"),
    "board.none_mine": ("You have no runs yet: start one on the training page", "你还没有训练：请在训练页面开始一个"),
    "board.overlay": ("Overlay runs of the class", "叠加班级中的训练"),
    "board.live": ("Updated live while a run is queued or running", "有训练排队或运行时实时更新"),
    "board.name.save": ("Save name", "保存名字"),
    "board.name.saved": ("The class board now shows you as {name}", "班级看板现在显示你为 {name}"),
    "board.name.cleared": ("Name removed: the class board shows your code again", "已移除名字：班级看板重新显示你的代码"),
    # --- the teacher's page ----------------------------------------------------------------------
    "teacher.unlocked": ("Unlocked: this browser tab is the teacher's until you lock it",
                         "已解锁：在你锁定之前，此浏览器标签页拥有教师权限"),
    "teacher.col.name": ("name", "名字"),
    "teacher.col.code": ("code", "代码"),
    "teacher.col.runs": ("runs watched", "观看的训练"),
    "teacher.col.place": ("place", "位次"),
    "teacher.col.kind": ("job", "任务"),
    "teacher.col.starts": ("starts in", "预计开始"),
    "teacher.col.ends": ("done in", "预计完成"),
    "teacher.col.worker": ("worker", "工作进程"),
    "teacher.col.progress": ("progress", "进度"),
    "teacher.col.rank": ("rank", "名次"),
    "teacher.kind.train": ("training", "训练"),
    "teacher.running": ("Running ({n})", "运行中（{n}）"),
    "teacher.running_empty": ("Nothing is running", "没有正在运行的任务"),
    "teacher.labs": ("Lab jobs ({n})", "实验任务（{n}）"),
    "teacher.leaderboard_empty": ("No completed run yet", "还没有完成的训练"),
    "teacher.runs_empty": ("No runs in the class", "班级中没有训练"),
    "teacher.actions": ("Act on a run", "管理训练"),
    "teacher.actions.help": ("Stop or delete any run or lab job of the class, whoever started it",
                             "停止或删除班级中的任何训练或实验任务，无论是谁发起的"),
    "teacher.did.stop": ("Stopped: {run}", "已停止：{run}"),
    "teacher.did.delete": ("Deleted: {run}", "已删除：{run}"),
    "teacher.clear.ask": (
        "This deletes all {n} runs and lab jobs of the class, with their curves and weights; running ones stop",
        "这将删除班级中全部 {n} 个训练和实验任务及其曲线和权重；正在运行的会停止",
    ),
    "teacher.prewarm.failed": ("Pre-warm of {arch}: {error}", "预热 {arch}：{error}"),
    "teacher.pool.beat": ("last heartbeat {ago} ago", "上次心跳在 {ago} 前"),
    "teacher.pool.never": ("no worker pool has ever served this store", "从未有工作进程池为此存储服务"),
}
