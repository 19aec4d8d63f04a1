from modelreg.launch import run

run()
