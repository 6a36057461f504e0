"""The Examples section of every command's ``--help`` (and of the man page, tools/make_man.py).

Kept in one place so the commands read alike; ``LazyGroup.get_command`` attaches them as the command's
epilog.  Each entry is (command line, what it does).  A command without an entry gets no section.
"""

from __future__ import annotations

__all__ = ["EXAMPLES", "epilog"]

EXAMPLES: dict[str, tuple[tuple[str, str], ...]] = {
    "": (
        ("crashplan suggest", "size kdump memory for this machine"),
        ("crashplan check 'crashkernel=256M crashkernel=1G,cma'", "what the kernel does with a command line"),
        ("crashplan lint /etc/default/grub /boot", "lint boot-loader configuration (CI)"),
        ("crashplan COMMAND --help", "options and examples of one command"),
    ),
    "check": (
        ("crashplan check", "the crashkernel= of this machine's command line"),
        ("crashplan check crashkernel=256M,cma=1G --kernel 6.1 --ram 16G --no-map",
         "parse only, for a kernel release and RAM size"),
        ("crashplan check crashkernel=1G-64G:256M --machine m.yaml --format json",
         "replay on a captured machine, as JSON"),
        ("crashplan check crashkernel=512M --iomem iomem.txt --kernel 6.12", "replay on a saved /proc/iomem"),
        ("crashplan check -q", "the answer line alone, for scripts (-v, -vv: more detail, and why)"),
    ),
    "suggest": (
        ("crashplan suggest", "this machine (as root: its memory map, kdump kernel and initrd)"),
        ("crashplan suggest --machine server.yaml --format json", "a captured machine, as JSON"),
        ("crashplan suggest --kdump-conf kdump.conf --dump-level 31 --portable",
         "with these kdump settings, and a range table for a fleet"),
    ),
    "lint": (
        ("crashplan lint", "this machine's boot configuration"),
        ("crashplan lint etc/ boot/ --kernel 6.12 --ram 4G --ram 64G", "a tree, for declared targets"),
        ("crashplan lint --format sarif -o crashplan.sarif .", "SARIF for code scanning"),
        ("crashplan lint --diff etc/default/grub", "show the safe fixes; --fix applies them"),
        ("echo 'crashkernel=auto' | crashplan lint -", "a command line from stdin"),
    ),
    "rules": (
        ("crashplan rules", "every rule, one line each"),
        ("crashplan rules CK102 misspelt-crashkernel", "explain rules by code or name"),
        ("crashplan rules --format markdown -o docs/rules.md", "the rule reference"),
    ),
    "fleet": (
        ("crashplan fleet plan snapshots/", "one crashkernel= line for every machine file under snapshots/"),
        ("crashplan fleet check 'crashkernel=2G-:256M' snaps/ --format csv -o f.csv",
         "replay a golden image's line on every machine, as CSV"),
        ("crashplan fleet check LINE snapshots/ --exclude 'lab-*'", "leave machines out by name or path"),
    ),
    "fleet plan": (
        ("crashplan fleet plan snapshots/", "the line that serves every machine and loses least"),
        ("crashplan fleet plan examples/x86_64-*.yaml --max-ranges 3 --format json", "as crashplan/fleet@1"),
        ("crashplan fleet plan snapshots/ --exclude old-box --no-cma", "without one machine, no CMA variant"),
    ),
    "fleet check": (
        ("crashplan fleet check 'crashkernel=1G-4G:192M,4G-64G:256M,64G-:512M' s/",
         "which machines a distribution's table fails, grouped by cause"),
        ("crashplan fleet check LINE snapshots/ --format json -o fleet.json", "as crashplan/fleet@1"),
        ("crashplan fleet check LINE snapshots/ --jobs 2", "replay on two processes"),
        ("crashplan fleet check LINE snapshots/ --strict",
         "machines that cannot kdump or were snapshot without root fail too"),
    ),
    "status": (
        ("crashplan status", "is kdump ready here, and is the reservation enough"),
        ("crashplan status --format json", "the same, as crashplan/status@1"),
        ("crashplan status --root /srv/captures/web01", "a captured machine's /proc, /sys, /boot and /etc"),
        ("crashplan status --machine examples/x86_64-microvm-24g.yaml", "what a machine file records"),
    ),
    "snapshot": (
        ("sudo crashplan snapshot -o host.yaml", "describe this machine as a machine file"),
        ("crashplan snapshot --iomem iomem.txt --arch arm64 -o board.yaml", "convert a saved /proc/iomem"),
        ("crashplan snapshot --machine old.yaml -o new.yaml", "normalise a machine file"),
    ),
}


def epilog(name: str) -> str | None:
    """The Examples section as click prints it (``\\b`` keeps the lines as written)."""
    rows = EXAMPLES.get(name)
    if not rows:
        return None
    lines = ["Examples:", "", "\b"]
    for cmd, what in rows:
        lines.append(f"  {cmd}")
        lines.append(f"      {what}")
    return "\n".join(lines)
