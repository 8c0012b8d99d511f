"""Build stage: recipes -> plan -> sources and patches -> build env -> recipe build -> diagnose -> wheelhouse."""
