from crashplan.cli import run

run()
