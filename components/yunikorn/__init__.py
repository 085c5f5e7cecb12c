"""YuniKornScheduler: the YuniKorn release and the queue ConfigMap rendered from the typed queue tree."""
