"""The serving side: `sync` keeps a directory on the version a reference names (loop), in a layout that
swaps versions atomically (layout), following a plan of what to watch and when (plan), announcing changes
(announce). Its results are in modelreg.results; `modelreg.sync` is the entry point."""
