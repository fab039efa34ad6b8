"""The app's page table, apart from ``app.py`` so that tests and other pages can read it
without running Streamlit code (``app.py`` builds the navigation from it at import)."""

from __future__ import annotations

# (file, title key, icon, section key): add a page by adding its line.
PAGES: list[tuple[str, str, str, str]] = [
    ("pages/home.py", "nav.home", ":material/home:", "nav.section.explore"),
    ("pages/explorer.py", "nav.explorer", ":material/account_tree:", "nav.section.explore"),
    ("pages/designer.py", "nav.designer", ":material/tune:", "nav.section.explore"),
    ("pages/compare.py", "nav.compare", ":material/bar_chart:", "nav.section.explore"),
    ("pages/training.py", "nav.training", ":material/model_training:", "nav.section.train"),
    ("pages/board.py", "nav.board", ":material/leaderboard:", "nav.section.train"),
    ("pages/gradflow.py", "nav.gradflow", ":material/trending_down:", "nav.section.labs"),
    ("pages/batchnorm.py", "nav.batchnorm", ":material/equalizer:", "nav.section.labs"),
    ("pages/costlab.py", "nav.costlab", ":material/calculate:", "nav.section.labs"),
    ("pages/featuremaps.py", "nav.featuremaps", ":material/grid_view:", "nav.section.labs"),
    ("pages/quiz.py", "nav.quiz", ":material/quiz:", "nav.section.labs"),
    ("pages/convarith.py", "nav.convarith", ":material/grid_on:", "nav.section.labs"),
    ("pages/teacher.py", "nav.teacher", ":material/school:", "nav.section.teacher"),
]
