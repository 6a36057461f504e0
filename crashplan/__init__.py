"""crashplan: plan, check and lint Linux kdump ``crashkernel=`` reservations.

The library is organised as a pure core (``crashplan.kernel``, ``crashplan.memmap``,
``crashplan.simulate``, ``crashplan.sizing``, ``crashplan.lint``) and a thin command line
(``crashplan.cli``).  Importing this package imports nothing else.
"""

__version__ = "0.1.0"
