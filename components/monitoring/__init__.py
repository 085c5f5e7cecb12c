"""MonitoringStack: Prometheus, Alertmanager and Grafana for the whole platform."""
