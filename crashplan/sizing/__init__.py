"""Sizing for ``crashplan suggest``: pure readers, the model, the plans (docs/sizing.md).

Modules (import them directly; this package imports nothing on its own):

``kernel_image``  ``read_kernel_image(bytes)``: in-memory size from bzImage/Image/ELF/zboot headers
``initrd``        ``read_initrd(bytes | stream)``: every cpio layer, packed and unpacked sizes
``kdumpconf``     ``parse_kdump_conf`` / ``parse_sysconfig_kdump`` / ``parse_kdump_tools``
``kconfig``       ``parse_kernel_config(text)``
``luks``          ``parse_luks_dump(text)``
``segments``      the kexec_file_load segment placement (``place_segments``, ``min_region``)
``model``         ``SizingInputs``, ``classic_budget``, ``cma_budget``: every term named and justified
``inputs``        ``build_inputs``: options > files > machine file > assumptions
``plans``         ``suggest``: classic and CMA plans, refusals, replay, the portable table
``apply``         ``apply_plan``: the commands that would apply a plan (never run)
``report``        ``report_json``: the ``crashplan/suggest@1`` document
"""
