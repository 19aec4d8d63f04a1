from modelreg.cli import run

run()
