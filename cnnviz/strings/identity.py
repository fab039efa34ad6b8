"""Messages of the class's identities (``cnnviz.runs.identity``): the join code, the rate limit of
new identities, display names, the lab jobs' share, and the teacher's list of identities."""

STRINGS = {
    # refusals (the library's errors)
    "ident.lab_limit": (
        "you already have {n} lab job(s) queued or running ({run_id}); stop it or wait for it to finish first",
        "你已有 {n} 个实验任务在排队或运行（{run_id}）；请先停止它或等它结束",
    ),
    "ident.removed": (
        "the teacher removed this browser from the class: it can look at the pages but start nothing until it joins again",
        "老师已将此浏览器移出班级：它可以浏览页面，但在重新加入之前不能启动任何任务",
    ),
    "ident.need_code": (
        "this class has a join code: enter it (the teacher has it) to start anything; until then you can look around",
        "本班设置了加入码：输入加入码（向老师索取）后才能启动任务；在此之前你可以浏览页面",
    ),
    "ident.too_many": (
        "too many new students (or wrong join codes) from your network in the last {minutes} minutes (at most {n}); wait a few minutes, or ask the teacher",
        "过去 {minutes} 分钟内来自你所在网络的新学生（或错误的加入码）太多（最多 {n} 个）；请等几分钟，或询问老师",
    ),
    "ident.bad_code": ("That is not the class's join code", "加入码不正确"),
    "ident.name.marker": (
        "a name cannot contain “{mark}”: the boards use it to separate a run from its student",
        "名字不能包含“{mark}”：看板用它来分隔训练和学生",
    ),
    "ident.name.teacher": (
        "{name} is the teacher's name: choose another one",
        "{name} 是老师的称呼：请换一个名字",
    ),
    "ident.name.long": ("a name has at most {n} characters", "名字最多 {n} 个字符"),
    "ident.name.taken": (
        "{name} is already taken in this class (names are compared ignoring case, spaces and look-alike letters): choose another one",
        "{name} 在本班已有人使用（比较时忽略大小写、空格和形近字母）：请换一个名字",
    ),
    # the join form, where a student would start something
    "ident.join.code": ("Join code", "加入码"),
    "ident.join.code.help": ("The teacher shows it on the screen", "老师会在屏幕上展示它"),
    "ident.join.go": ("Join the class", "加入班级"),
    "ident.join.again": ("Join as a new student", "以新学生身份加入"),
    "ident.joined": ("You joined the class: you can start runs now", "你已加入班级：现在可以启动训练了"),
    "ident.start_disabled": ("Join the class first (above)", "请先加入班级（见上方）"),
    # the teacher's page
    "ident.t.code": ("Join code", "加入码"),
    "ident.t.code.help": (
        "With a join code, a browser becomes a student only by typing it; without one, every browser is a student. Changing the code keeps the students who already joined.",
        "设置加入码后，浏览器只有输入它才能成为学生；没有加入码时，每个浏览器都是学生。更换加入码不影响已加入的学生。",
    ),
    "ident.t.code_is": ("The class's join code: **{code}**", "本班的加入码：**{code}**"),
    "ident.t.code_env": (
        "Set by CNNVIZ_JOIN_CODE when the server started: change it there",
        "由服务器启动时的 CNNVIZ_JOIN_CODE 设置：请在那里修改",
    ),
    "ident.t.code_none": (
        "No join code: every browser that opens the app is a student (fine for a teacher alone at home)",
        "没有加入码：每个打开本应用的浏览器都是学生（适合老师独自在家使用）",
    ),
    "ident.t.code_new": ("New join code", "生成新的加入码"),
    "ident.t.code_off": ("Remove the join code", "取消加入码"),
    "ident.t.code_set": ("New join code: {code}", "新的加入码：{code}"),
    "ident.t.code_cleared": ("The class has no join code now", "本班现在没有加入码"),
    "ident.t.members": ("Identities ({n})", "身份（{n}）"),
    "ident.t.members.help": (
        "Every browser that became a student. Removing one cancels its queued jobs and stops its running ones; its browser can start nothing until it joins again.",
        "每个成为学生的浏览器。移除后，它排队的任务会被取消、运行中的会被停止；在重新加入之前，它的浏览器不能启动任何任务。",
    ),
    "ident.t.none": ("No student has joined yet", "还没有学生加入"),
    "ident.t.col.who": ("Identity", "身份"),
    "ident.t.col.joined": ("Joined", "加入时间"),
    "ident.t.col.seen": ("Last active", "最近活动"),
    "ident.t.col.jobs": ("Jobs", "任务数"),
    "ident.t.col.address": ("Address", "地址"),
    "ident.t.col.state": ("State", "状态"),
    "ident.t.state.member": ("member", "成员"),
    "ident.t.state.removed": ("removed", "已移除"),
    "ident.t.pick": ("Identity", "身份"),
    "ident.t.runs": ("Its finished runs", "它已结束的训练"),
    "ident.t.runs.keep": ("keep, read-only", "保留（只读）"),
    "ident.t.runs.delete": ("delete", "删除"),
    "ident.t.remove": ("Remove", "移除"),
    "ident.t.removed": (
        "Removed {who}: {stopped} job(s) stopped, {deleted} deleted, {kept} kept read-only, {left} shared left to the others",
        "已移除 {who}：停止 {stopped} 个任务，删除 {deleted} 个，只读保留 {kept} 个，{left} 个共享任务留给其他人",
    ),
}
