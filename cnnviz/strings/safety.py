"""What a page says about an id or a value it cannot use (issue 19): a link's run id that is
malformed or names a lab job. Values from outside appear in them as ``cnnviz.safe.verbatim``
(Markdown code)."""

STRINGS = {
    "safe.train.bad_run": (
        "the link's run={raw} is not a run id (a run id has only letters and digits), so no run is shown",
        "链接中的 run={raw} 不是运行编号（运行编号只含字母和数字），因此不显示任何运行",
    ),
    "safe.train.lab_job": (
        "{run_id} is a job of the {lab} page, not a training run: this page shows training runs only",
        "{run_id} 是“{lab}”页面的任务，不是训练运行：本页只显示训练运行",
    ),
}
