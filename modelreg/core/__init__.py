"""Pure logic, no I/O: references and tag names (refs, names), events and their replay (events), time
travel (asof, instants), MLflow's filter grammar (filtering, filterfields, likematch), MLflow's
vocabulary (mlflowmap), `key=value` values (values), byte sizes (sizes), notification bodies
(notices, noticekinds), and signature verdicts (signatures). Tested without git."""
