"""The model build pipeline: versioned data → features → model → evaluation → signed package."""
