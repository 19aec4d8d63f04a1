"""`modelreg import`: bring an existing registry (MLflow, GTO) over.

Each source has a reading module that turns what it finds into a `plan.Plan` (pure mapping code
in `plan`, `mlflow_plan`, `gto_plan`), and `apply` writes a plan through the normal register and
event paths: hashing, dedup, store upload, verification, claim refs.
"""
