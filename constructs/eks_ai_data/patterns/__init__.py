"""Layer 4: the storage guide's patterns and the in-cluster composition, built from layers 2 and 3."""
