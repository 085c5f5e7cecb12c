"""JupyterHubRelease: one Zero to JupyterHub release per configured hub."""
