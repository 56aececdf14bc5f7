"""pytest plugin for record/replay tapes (fixtures `tapes_proxy`, `tapes_config`)."""
