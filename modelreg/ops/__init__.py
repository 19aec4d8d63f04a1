"""Operations, one module a family; each takes the reader and publisher it needs and returns a typed
result: register, assign (promote, alias, rollback), lifecycle (retire, describe, update), reviews
(request, apply), checks (verify, gc, check-ref), upgrade, lint, init."""
