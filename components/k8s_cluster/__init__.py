"""K8sHACluster: kubeadm HA cluster bootstrap over SSH."""
