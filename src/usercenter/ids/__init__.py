"""Global ids: a segment allocator (Leaf-style) and province-coded display uids."""
