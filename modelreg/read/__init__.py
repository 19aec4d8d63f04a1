"""The reader: which refs decide an answer (snapshot), the policy of record that admits events
(policy, evidence, sigverify), the Reader that answers queries (reader), time travel (when), and
search over many manifests (manifestbatch, search). Never writes to the repository."""
