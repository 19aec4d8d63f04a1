"""The registry's files in a repository, text ↔ typed values: config.yaml (config), version
manifests (manifest), promotion requests (requestfile), with strict YAML (yamlio, yamlstrict) and
errors that name the file and key (schema)."""
