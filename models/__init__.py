"""The model life cycle, framework-free: it never imports faust."""
