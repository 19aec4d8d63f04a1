"""MLflow's model-registry plugin (store), its vocabulary mapped to modelreg's (mapping), and its
searches (search). Only store imports mlflow, and only when MLflow loads the plugin."""
