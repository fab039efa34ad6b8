"""Home: what the app is for, the chapter's story as a timeline, and a way into every page."""

from __future__ import annotations

import streamlit as st

from cnnviz.i18n import TABLE
from cnnviz.viz import explore as charts
from ui import figures
from ui.common import arch_label, lang, tr
from ui.nav import PAGES
from ui.teach import class_address_card

st.title(tr("app.title"))
st.markdown(tr("home.intro"))

st.plotly_chart(figures.timeline(lang()), config={"displayModeBar": False})

# one card per step of the chapter, in the chapter's order, each opening the explorer on it
steps = charts.milestones()
for row in range(0, len(steps), 3):
    cols = st.columns(3, gap="medium")
    for col, m in zip(cols, steps[row:row + 3]):
        with col.container(border=True, height="stretch"):
            st.markdown(f"#### {tr('family.' + m.family)} · {m.year}")
            st.markdown(tr("home.idea." + m.family))
            st.page_link("pages/explorer.py", label=tr("home.open", arch=arch_label(m.model)),
                         icon=":material/arrow_forward:", query_params={"arch": m.model})

st.subheader(tr("home.pages"))
others = [p for p in PAGES if p[0] != "pages/home.py"]
cols = st.columns(min(len(others), 3) or 1)
for i, (path, title, icon, _section) in enumerate(others):
    with cols[i % len(cols)]:
        st.page_link(path, label=tr(title), icon=icon)
        blurb = f"home.page.{title.removeprefix('nav.')}"
        if blurb in TABLE:  # pages of other areas may come without one
            st.caption(tr(blurb))

st.subheader(tr("home.class"))
class_address_card("home.address")  # the class's address, a QR code to scan off the projector
st.markdown(tr("home.class.body"))
