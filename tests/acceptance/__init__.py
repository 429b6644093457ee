"""acceptance suite: see tests/support/scale.py for its bounded and full forms."""
