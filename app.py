"""cnnviz: `streamlit run app.py`. A thin entry point: language, navigation, nothing else.

Navigation is ``st.navigation`` over the files in ``pages/`` rather than the automatic
``pages/`` convention because page titles must follow the UI language (the convention takes
them from file names) and pages are grouped by the chapter's sections. Calling
``st.navigation`` turns automatic discovery off, so every page is listed here.
"""

import streamlit as st

from ui.common import language_selector, tr

# (file, title key, icon, section key): add a page by adding its line.
PAGES = [
    ("pages/home.py", "nav.home", ":material/home:", "nav.section.explore"),
    ("pages/explorer.py", "nav.explorer", ":material/account_tree:", "nav.section.explore"),
    ("pages/designer.py", "nav.designer", ":material/tune:", "nav.section.explore"),
    ("pages/compare.py", "nav.compare", ":material/bar_chart:", "nav.section.explore"),
]

st.set_page_config(page_title="cnnviz", page_icon=":material/layers:", layout="wide")
language_selector()
sections: dict[str, list] = {}
for i, (path, title, icon, section) in enumerate(PAGES):
    sections.setdefault(tr(section), []).append(st.Page(path, title=tr(title), icon=icon, default=(i == 0)))
st.navigation(sections).run()
