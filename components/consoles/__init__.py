"""Admin consoles (the YuniKorn web UI) behind oauth2-proxy, reached through the load balancer."""
