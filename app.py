"""cnnviz: `streamlit run app.py`. A thin entry point: language, navigation, nothing else.

Navigation is ``st.navigation`` over the files in ``pages/`` rather than the automatic
``pages/`` convention because page titles must follow the UI language (the convention takes
them from file names) and pages are grouped by the chapter's sections. Calling
``st.navigation`` turns automatic discovery off, so every page is listed in ``ui.nav.PAGES``.
"""

import streamlit as st

from cnnviz.errors import CnnvizError
from ui import teach, warm
from ui.common import freeze_startup_objects, lang, language_selector, tr
from ui.nav import PAGES  # the page table: (file, title key, icon, section key)
from ui.sched import keep_cookie, scheduler, store_guard, teacher_key

st.set_page_config(page_title="cnnviz", page_icon="🧠", layout="wide")
freeze_startup_objects()  # once per process: see its docstring (why a click no longer pays a full GC)
teacher_key()  # once per process: the teacher key, printed in the console unless CNNVIZ_TEACHER_KEY set it
try:
    scheduler()  # once per process: the job scheduler, which starts the worker pool if none serves the store
except (CnnvizError, OSError):  # a store that cannot be opened: the pages that need it say so, the others work
    pass
language_selector()
keep_cookie()  # the student's cookie, set from the sidebar on every run of a new session (see its docstring)
teach.heartbeat()  # an open page checks in every 20 s, idle or not: the teacher's "connected students"
sections: dict[str, list] = {}
for i, (path, title, icon, section) in enumerate(PAGES):
    sections.setdefault(tr(section), []).append(st.Page(path, title=tr(title), icon=icon, default=(i == 0)))
page = st.navigation(sections)
with store_guard():  # a store that broke or stays locked: its one message on the pages that read it
    page.run()
warm.mark(page.url_path, lang())  # the warm-up's line in the server log (classroom.warm); nothing for a student
