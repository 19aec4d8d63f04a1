"""MLflow's model-registry plugin: the store MLflow loads (store), its checks and error codes (checks), the
entities it returns (entities), the sources it registers from (sources) and its searches (search). The
vocabulary shared with `modelreg import mlflow` (stages, times, keys) is pure: core/mlflowmap.py."""
