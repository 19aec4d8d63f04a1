"""Pure logic, no I/O: references and tag names (refs), events and their replay (events), time
travel (asof, instants), MLflow's filter grammar (filtering), `key=value` values (values), and
signature verdicts (signatures). Tested without git."""
