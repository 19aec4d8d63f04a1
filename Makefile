.PHONY: demo test docs
demo:  ## a real register/promote/rollback/pull tour in a temporary repository
	bash examples/demo.sh
test:  ## lint, types and the whole test suite (what CI runs)
	bash .ci/run
docs:  ## regenerate the CLI reference from the Typer app
	.venv/bin/python .ci/cli-docs docs/cli.md
