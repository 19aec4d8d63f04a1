"""The publisher: where a write goes, its commit base, tag objects (signed when asked), and making
refs visible all at once, locally or by one atomic push retried on top of other writers' work
(publisher, push); bringing a clone's refs up to date before and apart from writes (fetching)."""
