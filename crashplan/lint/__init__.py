"""``crashplan lint``: boot-loader configurations checked for ``crashkernel=`` problems (pure core)."""
