"""The teacher leads the lesson (issue #22, items 5 and 6): links to a run's view and the
projector, the class's address as a QR code, connected students, delete's confirmation and the
stop that takes effect at the next step."""

STRINGS = {
    # --- links to a run's view (ui.teach.link_cells) ------------------------------------------------
    "teach.col.view": ("live view", "实时视图"),
    "teach.col.view.help": ("Open the run's live view (a new tab)", "打开该训练的实时视图（新标签页）"),
    "teach.col.projector": ("projector", "投影"),
    "teach.col.projector.help": (
        "Open the run's presenter view for the projector: sidebar folded, the run's charts full width",
        "在投影仪上打开该训练的演示视图：侧边栏收起，训练图表占满宽度",
    ),
    "teach.open": ("open", "打开"),
    "teach.present": ("show on the projector", "投影展示"),
    "teach.projector_btn": ("Show on the projector", "投影展示"),
    "teach.projector_btn.help": (
        "The picked run in the presenter view (a new tab): put that tab on the projector",
        "在新标签页中以演示视图打开所选训练：把这个标签页放到投影仪上",
    ),
    # --- the presenter view of the training page -------------------------------------------------
    "teach.present.back": ("Leave the presenter view", "退出演示视图"),
    "teach.present.no_run": (
        "The presenter view shows one run: open it from the class board's or the teacher's table",
        "演示视图只显示一个训练：请从班级看板或教师页面的表格中打开",
    ),
    # --- the class's address (ui.teach.class_address_card) ------------------------------------------
    "teach.address": ("The class's address", "课堂地址"),
    "teach.qr.caption": ("Scan to open cnnviz", "扫码打开 cnnviz"),
    "teach.address.help": (
        "Students scan the code or type the address; a phone or laptop on the same network as this machine",
        "学生扫码或输入地址即可；手机或电脑需与本机在同一网络中",
    ),
    "teach.address.local": (
        "This address only works on this machine (no network address was found): set CNNVIZ_CLASS_URL to the "
        "address students reach",
        "这个地址只能在本机使用（未找到网络地址）：请把 CNNVIZ_CLASS_URL 设置为学生可以访问的地址",
    ),
    # --- the teacher's page ---------------------------------------------------------------------
    "teach.students.help": (
        "Students with a page of cnnviz open now, idle or not (each open page checks in every {beat} s; a closed "
        "one drops out within {window} s)",
        "当前打开着 cnnviz 页面的学生，无论是否在操作（每个打开的页面每 {beat} 秒报到一次；关闭的页面在 {window} 秒内消失）",
    ),
    "teach.pick.placeholder": ("Pick a run to act on", "选择要操作的训练"),
    "teach.delete.ask": (
        "Delete {run}? Its curves and results are gone for everyone who watches it",
        "删除 {run}？所有关注它的人都将失去它的曲线和结果",
    ),
    "teach.delete.confirm": ("Yes, delete it", "是的，删除"),
    "teach.stopping": ("stopping at the next step", "将在下一步停止"),
    "teach.did.stopping": (
        "Stopping at the next step: {run} (its worker notices within one step)",
        "将在下一步停止：{run}（其工作进程会在一步之内察觉）",
    ),
    "teach.stopping.note": (
        "{run} is stopping at the next step: viewers still see it running until its worker notices",
        "{run} 将在下一步停止：在其工作进程察觉之前，观看者仍会看到它在运行",
    ),
}
