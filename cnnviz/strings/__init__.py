"""String tables, one module per area; merged by ``cnnviz.i18n``."""
