"""The only fsspec code: content-addressed blob stores (blobs), moving artifacts between a work
tree, the local cache and a store (transfer), hashing (hashing, digestcache) and cheap local copies
(filecopy)."""
